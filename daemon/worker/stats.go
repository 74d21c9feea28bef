package worker

import "github.com/alohasched/aloha/api"

// Stats are a worker's figures, for monitoring.
type Stats struct {
	// AppsRunning counts the runs the worker has now: starting, running
	// or being stopped.
	AppsRunning int
	// Launches counts the launch orders that started a new run since the
	// worker was created (re-attached runs are not launches).
	Launches uint64
	// Exits counts the runs that ended, by final state (FINISHED, FAILED,
	// KILLED, ERROR).
	Exits map[api.AppState]uint64
}

// Stats returns the worker's figures. It is safe to call at any time and
// does not wait for the worker's loop.
func (w *Worker) Stats() Stats {
	st := Stats{AppsRunning: int(w.running.Load()), Launches: w.launches.Load(), Exits: make(map[api.AppState]uint64, len(w.exits))}
	for state, n := range w.exits {
		st.Exits[state] = n.Load()
	}
	return st
}
