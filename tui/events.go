package tui

import (
	"cmp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/charmbracelet/bubbles/key"
)

// eventRow is one event as received.
type eventRow struct {
	n   uint64 // arrival number: the order across leaders
	e   api.Event
	hay string
}

// eventLog keeps the last cap events received.
type eventLog struct {
	rows []*eventRow
	cap  int
	n    uint64
}

func (l *eventLog) add(e api.Event) {
	l.n++
	r := &eventRow{n: l.n, e: e}
	r.hay = strings.ToLower(strings.Join([]string{string(e.Type), subject(e), string(e.State), e.Message, e.WorkerAddr}, "\x00"))
	l.rows = append(l.rows, r)
	// Trimmed in one copy once twice the cap, so adding stays O(1).
	if len(l.rows) >= 2*l.cap {
		l.rows = slices.Clone(l.rows[len(l.rows)-l.cap:])
	}
}

func (l *eventLog) all() []*eventRow {
	if len(l.rows) > l.cap {
		return l.rows[len(l.rows)-l.cap:]
	}
	return l.rows
}

// subject names what an event is about.
func subject(e api.Event) string {
	switch e.Type {
	case api.EventAppStateChanged:
		return e.AppID
	case api.EventAppRelaunched:
		return e.AppID + " → " + e.NewAppID
	case api.EventWorkerJoined, api.EventWorkerLost:
		if e.WorkerAddr != "" {
			return e.WorkerAddr
		}
		return e.WorkerID
	case api.EventLeaderChanged:
		return e.Leader + " epoch " + strconv.FormatUint(e.Epoch, 10)
	case api.EventLagged:
		return plural(e.Dropped, "event", "events") + " missed"
	}
	return ""
}

// eventsPage is the live event stream, newest at the bottom.
type eventsPage struct {
	*table[*eventRow]
	keys   *keyMap
	log    *eventLog
	paused bool
	held   uint64 // arrival number of the last event shown while paused
}

func newEventsPage(log *eventLog, st *styles, keys *keyMap, now func() time.Time) *eventsPage {
	cols := []column[*eventRow]{
		{title: "TIME", min: 12, max: 12, prio: 0,
			text: func(r *eventRow, _ time.Time) string { return r.e.Time.Local().Format("15:04:05.000") }},
		{title: "SEQ", min: 5, max: 9, prio: 5, right: true,
			text: func(r *eventRow, _ time.Time) string { return strconv.FormatUint(r.e.Seq, 10) }},
		{title: "TYPE", min: 12, max: 15, prio: 1, state: true,
			text: func(r *eventRow, _ time.Time) string { return string(r.e.Type) }},
		{title: "SUBJECT", min: 12, max: 52, prio: 2,
			text: func(r *eventRow, _ time.Time) string { return subject(r.e) }},
		{title: "STATE", min: 6, max: 11, prio: 3, state: true,
			text: func(r *eventRow, _ time.Time) string { return string(r.e.State) }},
		{title: "MESSAGE", min: 10, flex: true, prio: 4,
			text: func(r *eventRow, _ time.Time) string { return r.e.Message }},
	}
	t := newTable("Events", st, now, cols)
	t.base = func(a, b *eventRow) int { return cmp.Compare(a.n, b.n) }
	t.key = func(r *eventRow) string { return strconv.FormatUint(r.n, 10) }
	t.hay = func(r *eventRow) string { return r.hay }
	t.empty = "no events yet"
	t.stickEnd = true
	p := &eventsPage{table: t, keys: keys, log: log}
	t.rows = p.shown
	return p
}

// shown is the events the list draws from: all of them, or while paused
// those that had come when it was paused.
func (p *eventsPage) shown() []*eventRow {
	all := p.log.all()
	if !p.paused {
		return all
	}
	return all[:sort.Search(len(all), func(i int) bool { return all[i].n > p.held })]
}

// added tells the page that events arrived.
func (p *eventsPage) added() {
	p.changed(chRows)
	p.noteState()
}

// togglePause freezes or resumes the list.
func (p *eventsPage) togglePause() {
	p.paused = !p.paused
	p.held = p.log.n
	p.dirty = true
	if !p.paused {
		p.stickEnd = true
		p.end()
	}
	p.noteState()
}

func (p *eventsPage) noteState() {
	switch {
	case p.paused:
		p.note = p.st.warn.Render("⏸ paused") + p.st.faint.Render(" ("+count(p.log.n-p.held)+" new; p resumes)")
	case !p.stickEnd:
		p.note = p.st.faint.Render("scrolled; G follows the newest")
	default:
		p.note = p.st.ok.Render("● live")
	}
}

// moved keeps following only while the cursor is on the newest event.
func (p *eventsPage) moved() {
	p.ensure()
	p.stickEnd = !p.paused && p.cursor == len(p.index)-1
	p.noteState()
}

func (p *eventsPage) ShortHelp() []key.Binding {
	k := p.keys
	return []key.Binding{k.Pause, k.Open, k.Filter, k.Help, k.Quit, k.Bottom, k.Command}
}

func (p *eventsPage) FullHelp() [][]key.Binding {
	k := p.keys
	open := k.Open
	open.SetHelp("enter", "open the event's app")
	bottom := k.Bottom
	bottom.SetHelp("G", "bottom (follow the newest)")
	return [][]key.Binding{
		{k.Pause, open, k.Filter, k.Back},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, bottom},
		k.globalHelp(),
	}
}
