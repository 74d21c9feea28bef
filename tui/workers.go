package tui

import (
	"cmp"
	"strconv"
	"time"

	"github.com/charmbracelet/bubbles/key"
)

// workersPage lists the workers with the resources their applications
// hold.
type workersPage struct {
	*table[*workerRow]
	keys *keyMap
}

func newWorkersPage(c *cluster, st *styles, keys *keyMap, now func() time.Time) *workersPage {
	cols := []column[*workerRow]{
		{title: "ID", key: 'I', min: 8, max: 48, prio: 7,
			text: func(w *workerRow, _ time.Time) string { return w.info.ID }},
		{title: "ADDRESS", key: 'H', min: 9, max: 28, prio: 0,
			text: func(w *workerRow, _ time.Time) string { return w.info.Addr }},
		{title: "STATE", key: 'S', min: 6, max: 14, prio: 1, state: true, deps: chState,
			text: func(w *workerRow, _ time.Time) string { return string(w.info.State) }},
		{title: "CORES", key: 'C', min: 7, max: 9, prio: 2, right: true, deps: chUsage,
			text: func(w *workerRow, _ time.Time) string {
				return strconv.Itoa(w.info.CoresUsed) + "/" + strconv.Itoa(w.info.Cores)
			},
			cmp: func(a, b *workerRow) int { return cmp.Compare(a.info.CoresUsed, b.info.CoresUsed) }},
		{title: "MEMORY", key: 'M', min: 11, max: 15, prio: 3, right: true, deps: chUsage,
			text: func(w *workerRow, _ time.Time) string { return mem(w.info.MemoryUsed) + "/" + mem(w.info.Memory) },
			cmp:  func(a, b *workerRow) int { return cmp.Compare(a.info.MemoryUsed, b.info.MemoryUsed) }},
		{title: "APPS", key: 'A', min: 4, max: 6, prio: 4, right: true, deps: chUsage,
			text: func(w *workerRow, _ time.Time) string { return strconv.Itoa(len(w.info.Apps)) },
			cmp:  func(a, b *workerRow) int { return cmp.Compare(len(a.info.Apps), len(b.info.Apps)) }},
		{title: "HEARTBEAT", key: 'B', min: 9, max: 10, prio: 5, right: true, deps: chUsage, live: true,
			text: func(w *workerRow, now time.Time) string { return since(now, w.info.LastHeartbeat) + " ago" },
			cmp:  func(a, b *workerRow) int { return b.info.LastHeartbeat.Compare(a.info.LastHeartbeat) }},
		{title: "UPTIME", key: 'U', min: 6, max: 7, prio: 6, right: true,
			text: func(w *workerRow, now time.Time) string { return since(now, w.info.RegisteredAt) },
			cmp:  func(a, b *workerRow) int { return b.info.RegisteredAt.Compare(a.info.RegisteredAt) }},
	}
	t := newTable("Workers", st, now, cols)
	t.rows = func() []*workerRow { return c.workerList }
	t.base = func(a, b *workerRow) int { return cmp.Compare(a.info.Addr, b.info.Addr) }
	t.key = func(w *workerRow) string { return w.info.ID }
	t.hay = func(w *workerRow) string { return w.hay }
	t.empty = "no workers registered; start one with: alohad worker aloha://MASTER:7077"
	return &workersPage{table: t, keys: keys}
}

func (p *workersPage) ShortHelp() []key.Binding {
	k := p.keys
	return []key.Binding{k.Open, k.Filter, k.Help, k.Quit, k.Sort, k.Command}
}

func (p *workersPage) FullHelp() [][]key.Binding {
	k := p.keys
	open := k.Open
	open.SetHelp("enter", "its apps (filter the apps view by it)")
	sorts := sortHelp(p.table)
	return [][]key.Binding{
		{open, k.Filter, k.Back},
		k.moveHelp(),
		sorts[:len(sorts)/2], sorts[len(sorts)/2:],
		k.globalHelp(),
	}
}
