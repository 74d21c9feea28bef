package tui

import (
	"context"
	"errors"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
	tea "github.com/charmbracelet/bubbletea"
)

// Update applies one message: a key, a resize, or the answer of a
// command. It never blocks.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
	case tea.KeyMsg:
		cmd = m.handleKey(msg)
	case tea.MouseMsg:
		m.handleMouse(msg)
	case backlogMsg:
		cmd = m.onBacklog(msg)
	case eventsMsg:
		cmd = m.onEvents(msg)
	case streamEndMsg:
		m.onStreamEnd(msg)
	case snapshotMsg:
		cmd = m.onSnapshot(msg)
	case refreshMsg:
		cmd = m.onRefresh(msg)
	case appMsg:
		m.onApp(msg)
	case killMsg:
		m.onKill(msg)
	case logMsg:
		cmd = m.onLog(msg)
	case logEndMsg:
		m.onLogEnd(msg)
	case tickMsg:
		cmd = m.onTick()
	}
	m.noteChanges()
	return m, cmd
}

// noteChanges tells the tables what the data changes were.
func (m *Model) noteChanges() {
	apps, workers := m.data.takeChanges()
	m.apps.changed(apps)
	m.workers.changed(workers)
}

func (m *Model) startPump() tea.Cmd {
	if m.pumpCancel != nil {
		m.pumpCancel()
	}
	m.pumpGen++
	ctx, cancel := context.WithCancel(m.ctx)
	m.pumpCancel = cancel
	m.pumpCh = make(chan pumpItem, pumpBuffer)
	return tea.Batch(pumpEvents(ctx, m.src, m.pumpGen, m.pumpCh), nextEvents(m.pumpCh, m.pumpGen))
}

// nextEventsCmd reads the reader's next batch, if a reader runs.
func (m *Model) nextEventsCmd() tea.Cmd {
	if m.pumpCh == nil {
		return nil
	}
	return nextEvents(m.pumpCh, m.pumpGen)
}

func (m *Model) onBacklog(msg backlogMsg) tea.Cmd {
	if msg.gen != m.pumpGen {
		return nil
	}
	// A reader started again re-reads the leader's buffer: show only what
	// the view has not shown yet.
	var newest time.Time
	if n := len(m.events.rows); n > 0 {
		newest = m.events.rows[n-1].e.Time
	}
	for _, e := range msg.events {
		if e.Time.After(newest) {
			m.events.add(e)
		}
	}
	m.evPage.added()
	return tea.Batch(m.reload(), m.nextEventsCmd())
}

// reload loads a new snapshot, or asks for one after the one loading.
func (m *Model) reload() tea.Cmd {
	if m.loading {
		m.reloadAgain = true
		return nil
	}
	m.loading, m.reloadAgain = true, false
	m.snapGen++
	return loadSnapshot(m.ctx, m.src, m.snapGen, m.opts.Timeout)
}

func (m *Model) onEvents(msg eventsMsg) tea.Cmd {
	if msg.gen != m.pumpGen {
		return nil
	}
	var cmds []tea.Cmd
	for _, e := range msg.events {
		m.events.add(e)
		if m.loading {
			if len(m.queued) < queueLimit {
				m.queued = append(m.queued, e)
			} else {
				m.queued, m.reloadAgain = nil, true
			}
			continue
		}
		cmds = append(cmds, m.apply(e))
	}
	m.data.prune()
	m.evPage.added()
	if msg.then != nil {
		_, then := m.Update(msg.then)
		cmds = append(cmds, then)
	} else {
		cmds = append(cmds, m.nextEventsCmd())
	}
	return tea.Batch(cmds...)
}

// apply applies one event to the data and returns what it needs fetched.
func (m *Model) apply(e api.Event) tea.Cmd {
	fetch, reload := m.data.applyEvent(e)
	var cmds []tea.Cmd
	for _, id := range fetch {
		if !m.fetching[id] {
			m.fetching[id] = true
			cmds = append(cmds, fetchApp(m.ctx, m.src, id, m.opts.Timeout))
		}
	}
	if reload {
		cmds = append(cmds, m.reload())
	}
	if e.Type == api.EventWorkerJoined || e.Type == api.EventWorkerLost {
		cmds = append(cmds, m.startRefresh())
	}
	return tea.Batch(cmds...)
}

func (m *Model) onStreamEnd(msg streamEndMsg) {
	if msg.gen != m.pumpGen {
		return
	}
	m.pumpCh = nil
	if m.ctx.Err() != nil {
		return
	}
	if msg.err != nil {
		m.setStatus(true, "event stream: "+short(msg.err)+"; retrying")
		m.lost(msg.err)
	}
	m.retryPump = m.now().Add(m.opts.Refresh)
}

// lost marks the connection as failing.
func (m *Model) lost(err error) {
	if m.conn.phase != reconnecting {
		m.conn.phase, m.conn.since = reconnecting, m.now()
		m.setStatus(true, short(err)+"; reconnecting")
	}
	m.conn.err = err
}

func (m *Model) onSnapshot(msg snapshotMsg) tea.Cmd {
	if msg.gen != m.snapGen {
		return nil
	}
	if msg.err != nil {
		m.lost(msg.err)
		m.setStatus(true, "loading the cluster: "+short(msg.err)+"; retrying")
		m.retrySnap = m.now().Add(m.opts.Refresh)
		return nil
	}
	m.loading = false
	m.data.setSnapshot(msg.apps, msg.workers)
	m.data.master, m.epoch = msg.master, msg.master.Epoch
	m.connected()
	var cmds []tea.Cmd
	for _, e := range m.queued {
		cmds = append(cmds, m.apply(e))
	}
	m.queued = nil
	m.data.prune()
	if m.reloadAgain {
		cmds = append(cmds, m.reload())
	}
	return tea.Batch(cmds...)
}

func (m *Model) connected() {
	if m.conn.phase == reconnecting && m.statusBad {
		m.setStatus(false, "connected again")
	}
	m.conn = conn{phase: connected, since: m.now()}
}

func (m *Model) startRefresh() tea.Cmd {
	if m.refreshing {
		return nil
	}
	m.refreshing, m.lastRefresh = true, m.now()
	// Short, so that an outage shows in the header within seconds.
	return refresh(m.ctx, m.src, min(m.opts.Timeout, refreshTimeout))
}

func (m *Model) onRefresh(msg refreshMsg) tea.Cmd {
	m.refreshing = false
	if msg.err != nil {
		m.lost(msg.err)
		return nil
	}
	was := m.conn.phase
	m.data.master = msg.master
	m.data.setWorkers(msg.workers)
	m.connected()
	// After an outage, or under a new leader, events may have been
	// missed: start again from a snapshot.
	if !m.loading && m.epoch != 0 && (was == reconnecting || (msg.master.State.IsLeader() && msg.master.Epoch != m.epoch)) {
		return m.reload()
	}
	return nil
}

func (m *Model) onApp(msg appMsg) {
	delete(m.fetching, msg.id)
	if msg.err != nil {
		if !errors.Is(msg.err, client.ErrNotFound) {
			m.setStatus(true, "reading "+msg.id+": "+short(msg.err))
		}
		return
	}
	if m.data.apps[msg.id] != nil {
		m.data.putApp(*msg.info)
	}
	if m.detail.id == msg.id {
		m.detail.fetched = msg.info
	}
}

func (m *Model) onKill(msg killMsg) {
	if msg.err != nil {
		var re *client.RefusedError
		if errors.As(msg.err, &re) {
			m.setStatus(true, "kill refused: "+re.Reason)
			return
		}
		m.setStatus(true, "kill "+msg.id+": "+short(msg.err))
		return
	}
	text := "kill of " + msg.id + " requested"
	if msg.resp.State.IsFinal() {
		text = msg.id + " " + string(msg.resp.State)
		if msg.resp.Message != "" {
			text += ": " + msg.resp.Message
		}
	}
	m.setStatus(false, text)
}

func (m *Model) onLog(msg logMsg) tea.Cmd {
	if msg.gen != m.logGen {
		return nil
	}
	m.detail.logs.add(msg.lines)
	m.detail.logs.status = "streaming"
	return nextLog(m.logCh)
}

func (m *Model) onLogEnd(msg logEndMsg) {
	if msg.gen != m.logGen {
		return
	}
	p := m.detail.logs
	if msg.err != nil {
		p.status, p.failed = short(msg.err), true
		return
	}
	p.status = "ended"
}

func (m *Model) onTick() tea.Cmd {
	now := m.now()
	cmds := []tea.Cmd{tick()}
	m.data.counted = false // the last hour moved
	m.apps.tick()
	m.workers.tick()
	if m.status != "" && now.Sub(m.statusTime) > statusFor(m.statusBad) {
		m.status = ""
	}
	if now.Sub(m.lastRefresh) >= m.opts.Refresh {
		cmds = append(cmds, m.startRefresh())
	}
	if m.pumpCh == nil && !m.retryPump.IsZero() && !now.Before(m.retryPump) {
		m.retryPump = time.Time{}
		cmds = append(cmds, m.startPump())
	}
	if m.loading && !m.retrySnap.IsZero() && !now.Before(m.retrySnap) {
		m.retrySnap = time.Time{}
		m.snapGen++
		cmds = append(cmds, loadSnapshot(m.ctx, m.src, m.snapGen, m.opts.Timeout))
	}
	return tea.Batch(cmds...)
}

// refreshTimeout bounds the periodic refresh.
const refreshTimeout = 3 * time.Second

// statusFor is how long a status message stays: errors longer.
func statusFor(bad bool) time.Duration {
	if bad {
		return 15 * time.Second
	}
	return 5 * time.Second
}
