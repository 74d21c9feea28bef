package master

import (
	"fmt"
	"sort"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/wire"
)

// Leadership, in the order a term unfolds:
//
//	STANDBY     campaign: answer every request with "standby" and the
//	            leader's address, until the elector grants a term.
//	RECOVERING  read the store; mark workers and launched applications
//	            UNKNOWN; tell every worker the master changed. Workers
//	            answer with their runs, which are re-attached. Submissions
//	            are accepted (persisted and queued) but not scheduled.
//	COMPLETING_RECOVERY  when every worker has answered, or the worker
//	            timeout has passed: whatever has not answered is lost
//	            (relaunched if supervised, else ERROR).
//	ALIVE       schedule.
//
// Losing the term (Term.Lost, or a failed commit) ends it at once: the
// master stops scheduling before anything else, forgets its state and
// campaigns again as a standby.

// campaign asks the elector for a term on a goroutine of its own; the
// loop keeps answering as a standby meanwhile. Loop-only.
func (m *Master) campaign() {
	m.state = api.MasterStandby
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		term, err := m.opts.Elector.Campaign(m.ctx)
		if err != nil {
			if m.ctx.Err() == nil {
				m.post(func() { m.fatal(err) })
			}
			return
		}
		m.post(func() { m.lead(term) })
	}()
}

// lead starts a term: recover the state, then serve as the leader.
// Loop-only.
func (m *Master) lead(term *recovery.Term) {
	select {
	case <-term.Lost:
		m.campaign() // lost before it began
		return
	default:
	}
	now := time.Now()
	m.term, m.epoch = term, term.Epoch
	m.curTerm.Store(term)
	m.state = api.MasterRecovering
	m.ids = api.NewAppIDs(now)
	m.log.Info("master is the leader; recovering", "url", m.opts.URL, "epoch", m.epoch)
	var snap *recovery.Snapshot
	if m.opts.Store != nil {
		var err error
		if snap, err = m.opts.Store.Load(m.ctx); err != nil {
			// Damage that is not a torn tail fails the same way on every
			// master: stop with the reason rather than flap between terms.
			term.Resign()
			m.fatal(fmt.Errorf("master: cannot read the recovery state: %w", err))
			return
		}
	}
	// The term's first event, before what recovery publishes: followers
	// that switch to this term go on from here.
	e := m.events.Publish(api.Event{Type: api.EventLeaderChanged, Leader: m.opts.URL, Epoch: m.epoch, Message: "leader elected", Time: now})
	m.termStart.Store(e.Seq)
	m.termEpoch.Store(term.Epoch) // event streams open with this term
	m.restore(snap, now)
	m.maybeCompleteRecovery()
	if m.state == api.MasterRecovering {
		term := m.term
		m.recoveryTimer = time.AfterFunc(m.opts.WorkerTimeout, func() {
			m.post(func() {
				if m.term == term && m.state == api.MasterRecovering {
					m.completeRecovery("worker timeout passed")
				}
			})
		})
	}
}

// restore rebuilds the cluster from what the store kept. Loop-only.
func (m *Master) restore(snap *recovery.Snapshot, now time.Time) {
	if snap == nil {
		return
	}
	forget := &recovery.Batch{}
	for _, info := range snap.Workers {
		if info.State.IsFinal() {
			forget.DeleteWorker(info.ID) // its apps were settled when it died
			continue
		}
		w := &worker{info: info, apps: map[string]*app{}, kinds: kindSet(info.Kinds)}
		w.info.State, w.info.CoresUsed, w.info.MemoryUsed = api.WorkerUnknown, 0, 0
		w.info.LastHeartbeat = now
		w.out = newOutbox(m.ctx, &m.wg, m.node, wire.Address{Host: info.Addr, Name: api.WorkerEndpoint}, m.log, m.orderRefused(w))
		m.workers[info.ID], m.byAddr[info.Addr] = w, w
	}
	apps := append([]api.AppInfo(nil), snap.Apps...)
	sort.Slice(apps, func(i, j int) bool { return apps[i].SubmittedAt.Before(apps[j].SubmittedAt) })
	var ended []*app
	for _, info := range apps {
		m.ids.Observe(info.ID)
		a := &app{info: info}
		m.apps[info.ID] = a
		m.count(a)
		if info.RequestID != "" {
			m.byRequest[info.RequestID] = info.ID
		}
		switch st := info.State; {
		case st.IsFinal() || st == api.AppRelaunching:
			ended = append(ended, a)
		case st == api.AppSubmitted:
			m.enqueue(a)
		default: // LAUNCHING, RUNNING, UNKNOWN: placed on a worker
			a.before = st
			if st == api.AppUnknown {
				a.before = api.AppRunning
			}
			if w := m.workers[info.WorkerID]; w != nil {
				w.take(a)
				a.worker = w
				m.setAppState(a, api.AppUnknown, "master changed; waiting for "+w.info.ID+" to report", now)
			} else {
				m.runLost(a, "its worker "+info.WorkerID+" is gone", false, now)
			}
		}
	}
	sort.Slice(ended, func(i, j int) bool { return ended[i].info.EndedAt.Before(ended[j].info.EndedAt) })
	for _, a := range ended {
		m.retire(a)
	}
	if !forget.Empty() {
		m.persist(forget, func() {})
	}
	for _, w := range m.workers {
		w.out.send(&api.MasterChanged{MasterURL: m.opts.URL, Epoch: m.epoch})
	}
	m.log.Info("recovery state read", "apps", len(snap.Apps), "workers", len(m.workers), "waiting", len(m.waiting))
}

// maybeCompleteRecovery ends recovery once no worker is UNKNOWN.
// Loop-only.
func (m *Master) maybeCompleteRecovery() {
	if m.state != api.MasterRecovering {
		return
	}
	for _, w := range m.workers {
		if w.info.State == api.WorkerUnknown {
			return
		}
	}
	m.completeRecovery("every worker answered")
}

// completeRecovery removes what has not answered and starts scheduling.
// Loop-only.
func (m *Master) completeRecovery(why string) {
	m.state = api.MasterCompletingRecovery
	if m.recoveryTimer != nil {
		m.recoveryTimer.Stop()
		m.recoveryTimer = nil
	}
	now := time.Now()
	for _, w := range m.workers {
		if w.info.State == api.WorkerUnknown {
			m.loseWorker(w, "did not answer the new leader", now)
		}
	}
	m.state = api.MasterAlive
	m.scheduleDue = true
	m.log.Info("recovery complete; master is alive", "url", m.opts.URL, "epoch", m.epoch, "reason", why,
		"workers", len(m.workers), "waiting", len(m.waiting))
}

// stepDown ends the current term at once: nothing is scheduled, launched
// or killed from here on, and the state is forgotten (the next leader
// reads it from the store). Loop-only.
func (m *Master) stepDown(why string) {
	if m.term == nil {
		return
	}
	m.log.Warn("master stepping down", "url", m.opts.URL, "epoch", m.epoch, "reason", why)
	m.state = api.MasterStandby
	m.termEpoch.Store(0)
	m.curTerm.Store(nil)
	term := m.term
	m.term = nil
	m.reset()
	term.Resign()
	// Campaign again after a pause, so that a standby without this
	// master's trouble (a full disk, a flaky link) can take over first.
	time.AfterFunc(stepDownPause, func() {
		m.post(func() {
			if m.term == nil && m.ctx.Err() == nil {
				m.campaign()
			}
		})
	})
}

// stepDownPause is how long a master that stepped down waits before it
// campaigns again.
const stepDownPause = time.Second

// reset forgets the cluster state and stops everything that acts on it.
// Loop-only.
func (m *Master) reset() {
	m.state = api.MasterStandby
	if m.recoveryTimer != nil {
		m.recoveryTimer.Stop()
		m.recoveryTimer = nil
	}
	for _, w := range m.workers {
		if w.out != nil {
			w.out.close()
		}
	}
	for _, a := range m.apps {
		if a.restartTimer != nil {
			a.restartTimer.Stop()
			a.restartTimer = nil // a timer that already fired finds nil and does nothing
		}
	}
	m.apps = map[string]*app{}
	m.appCount = map[api.AppState]int{}
	m.workers = map[string]*worker{}
	m.byAddr = map[string]*worker{}
	m.byRequest = map[string]string{}
	m.waiting, m.completed = nil, nil
	m.scheduleDue, m.unreasoned, m.reasonsStale = false, 0, false
}
