package master

import (
	"context"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/events"
)

// Stats is a snapshot of the master's figures, for monitoring. A standby
// knows no workers and no applications.
type Stats struct {
	State api.MasterState
	// Workers counts the workers the master knows, by state.
	Workers map[api.WorkerState]int
	// Apps counts the applications the master knows, by state: the
	// active ones and the finished ones it retains.
	Apps map[api.AppState]int
	// Cores and memory (MB) of the ALIVE workers.
	CoresUsed, CoresFree   int
	MemoryUsed, MemoryFree int
	// Submissions counts the submissions accepted since the master was
	// created, across terms; a retried submission counts once.
	Submissions uint64
	// Listeners are the counters of Options.Listeners.
	Listeners []events.ListenerStats
}

// statsRequest asks the loop for Stats; it never crosses the wire.
type statsRequest struct{}

// Stats returns the master's figures. The counts are read on the loop and
// cost one pass over the workers (not over the applications, whose counts
// are kept as they change), so scraping them often is cheap.
func (m *Master) Stats(ctx context.Context) (*Stats, error) {
	v, err := m.call(ctx, statsRequest{})
	if err != nil {
		return nil, err
	}
	st := v.(*Stats)
	st.Submissions = m.submissions.Load()
	st.Listeners = m.dispatcher.Stats()
	return st, nil
}

// stats answers a statsRequest. Loop-only.
func (m *Master) stats() *Stats {
	st := &Stats{State: m.state, Workers: map[api.WorkerState]int{}, Apps: make(map[api.AppState]int, len(m.appCount))}
	for state, n := range m.appCount {
		if n != 0 {
			st.Apps[state] = n
		}
	}
	for _, w := range m.workers {
		st.Workers[w.info.State]++
		if w.info.State == api.WorkerAlive {
			st.CoresUsed += w.info.CoresUsed
			st.CoresFree += w.info.Cores - w.info.CoresUsed
			st.MemoryUsed += w.info.MemoryUsed
			st.MemoryFree += w.info.Memory - w.info.MemoryUsed
		}
	}
	return st
}

// count and uncount keep appCount in step with apps: an application is
// counted under its state while it is in apps and has one (an app being
// added has none until its first setAppState). Loop-only.
func (m *Master) count(a *app) {
	if a.info.State != "" {
		m.appCount[a.info.State]++
	}
}

func (m *Master) uncount(a *app) {
	if a.info.State != "" {
		m.appCount[a.info.State]--
	}
}
