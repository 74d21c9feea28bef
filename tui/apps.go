package tui

import (
	"cmp"
	"strconv"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/charmbracelet/bubbles/key"
)

// appsPage is the default view: every application, newest first.
type appsPage struct {
	*table[*appRow]
	keys *keyMap
}

func newAppsPage(c *cluster, st *styles, keys *keyMap, now func() time.Time) *appsPage {
	worker := func(r *appRow) string { return c.workerName(r.info.WorkerID, r.info.WorkerAddr) }
	cols := []column[*appRow]{
		{title: "ID", key: 'I', min: 8, max: 26, prio: 0,
			text: func(r *appRow, _ time.Time) string { return r.info.ID },
			cmp:  func(a, b *appRow) int { return cmp.Compare(a.info.ID, b.info.ID) }},
		{title: "NAME", key: 'N', min: 6, max: 32, prio: 2,
			text: func(r *appRow, _ time.Time) string { return r.info.Spec.Name }},
		{title: "KIND", key: 'K', min: 5, max: 16, prio: 5,
			text: func(r *appRow, _ time.Time) string { return r.info.Spec.EntryPoint }},
		{title: "STATE", key: 'S', min: 11, max: 11, prio: 1, state: true, deps: chState,
			text: func(r *appRow, _ time.Time) string { return string(r.info.State) }},
		{title: "WORKER", key: 'W', min: 8, max: 24, prio: 4, deps: chWorker,
			text: func(r *appRow, _ time.Time) string { return worker(r) }},
		{title: "CORES", key: 'C', min: 5, max: 6, prio: 6, right: true,
			text: func(r *appRow, _ time.Time) string { return strconv.Itoa(r.info.Spec.Cores) },
			cmp:  func(a, b *appRow) int { return cmp.Compare(a.info.Spec.Cores, b.info.Spec.Cores) }},
		{title: "MEMORY", key: 'M', min: 6, max: 7, prio: 7, right: true,
			text: func(r *appRow, _ time.Time) string { return mem(r.info.Spec.Memory) },
			cmp:  func(a, b *appRow) int { return cmp.Compare(a.info.Spec.Memory, b.info.Spec.Memory) }},
		{title: "AGE", key: 'A', min: 6, max: 7, prio: 3, right: true,
			text: func(r *appRow, now time.Time) string { return since(now, r.info.SubmittedAt) },
			cmp:  func(a, b *appRow) int { return b.info.SubmittedAt.Compare(a.info.SubmittedAt) }},
		{title: "DURATION", key: 'D', min: 8, max: 9, prio: 9, right: true, deps: chState | chRestarts, live: true,
			text: func(r *appRow, now time.Time) string { return runTime(r.info, now) },
			cmp:  func(a, b *appRow) int { return cmp.Compare(runDuration(a.info, now()), runDuration(b.info, now())) }},
		{title: "RESTARTS", key: 'R', min: 8, max: 9, prio: 8, right: true, deps: chRestarts,
			text: func(r *appRow, _ time.Time) string { return strconv.Itoa(r.info.Restarts) },
			cmp:  func(a, b *appRow) int { return cmp.Compare(a.info.Restarts, b.info.Restarts) }},
	}
	t := newTable("Apps", st, now, cols)
	t.rows = func() []*appRow { return c.appList }
	t.base = newestFirst
	t.key = func(r *appRow) string { return r.info.ID }
	t.hay = func(r *appRow) string { return r.hay }
	t.empty = "no applications yet; submit one with: alohactl submit -- echo hello"
	return &appsPage{table: t, keys: keys}
}

// newestFirst orders applications by submission, newest first, as the
// master lists them.
func newestFirst(a, b *appRow) int {
	if c := b.info.SubmittedAt.Compare(a.info.SubmittedAt); c != 0 {
		return c
	}
	return cmp.Compare(b.info.ID, a.info.ID)
}

// runDuration is how long an application ran: start to end, or to now.
func runDuration(i api.AppInfo, now time.Time) time.Duration {
	if i.StartedAt.IsZero() {
		return 0
	}
	end := i.EndedAt
	if end.IsZero() || end.Before(i.StartedAt) {
		end = now
	}
	return end.Sub(i.StartedAt)
}

func runTime(i api.AppInfo, now time.Time) string {
	if i.StartedAt.IsZero() {
		return "-"
	}
	return human(runDuration(i, now))
}

func (p *appsPage) ShortHelp() []key.Binding {
	k := p.keys
	return []key.Binding{k.Open, k.Logs, k.Filter, k.Kill, k.Help, k.Quit, k.Sort, k.Command}
}

func (p *appsPage) FullHelp() [][]key.Binding {
	k := p.keys
	sorts := sortHelp(p.table)
	return [][]key.Binding{
		{k.Open, k.Logs, k.Kill, k.Filter, k.Back},
		k.moveHelp(),
		sorts[:len(sorts)/2], sorts[len(sorts)/2:],
		k.globalHelp(),
	}
}

// sortHelp lists a table's sort keys.
func sortHelp[R comparable](t *table[R]) []key.Binding {
	var out []key.Binding
	for _, c := range t.cols {
		if c.key != 0 {
			out = append(out, key.NewBinding(key.WithKeys(string(c.key)), key.WithHelp("shift+"+string(c.key), "sort by "+c.title)))
		}
	}
	return out
}
