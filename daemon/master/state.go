package master

import (
	"time"

	"github.com/alohasched/aloha/api"
)

// maxHistory bounds the state history kept per application, so that
// 100,000 retained applications stay small.
const maxHistory = 32

// app is the master's record of one application. Loop-only.
type app struct {
	info api.AppInfo
	// worker is where the current run was placed; nil while waiting.
	worker *worker
	// restartTimer is pending while a failed run waits for its backoff.
	restartTimer *time.Timer
	// queuedAt is when the app last became eligible for placement.
	queuedAt time.Time
	// before is the state a recovered run had under the previous leader
	// (while it is UNKNOWN): a run that was only LAUNCHING can be queued
	// again if its worker does not have it.
	before api.AppState
}

func (a *app) setState(state api.AppState, msg string, now time.Time) {
	a.info.State = state
	a.info.Message = msg
	a.info.History = append(a.info.History, api.StateChange{State: state, Message: msg, Time: now})
	if n := len(a.info.History); n > maxHistory {
		a.info.History = append(a.info.History[:0:0], a.info.History[n-maxHistory:]...)
	}
}

func (a *app) demand() demand {
	return demand{id: a.info.ID, kind: a.info.Spec.EntryPoint, cores: a.info.Spec.Cores, memory: a.info.Spec.Memory}
}

// worker is the master's record of one worker. Loop-only.
type worker struct {
	info  api.WorkerInfo
	kinds map[string]bool
	apps  map[string]*app // the runs placed on it
	out   *outbox
	// connected tracks the worker's connection, so that a restarted
	// worker on the same address can replace a departed one at once.
	connected bool
	// session is the worker's current registration session; orders carry
	// it (see api.LaunchApp).
	session uint64
}

func (w *worker) slot() slot {
	return slot{
		id:         w.info.ID,
		coresFree:  w.info.Cores - w.info.CoresUsed,
		memoryFree: w.info.Memory - w.info.MemoryUsed,
		cores:      w.info.Cores,
		memory:     w.info.Memory,
		kinds:      w.kinds,
	}
}

func (w *worker) take(a *app) {
	w.apps[a.info.ID] = a
	w.info.CoresUsed += a.info.Spec.Cores
	w.info.MemoryUsed += a.info.Spec.Memory
}

func (w *worker) release(a *app) {
	if _, ok := w.apps[a.info.ID]; !ok {
		return
	}
	delete(w.apps, a.info.ID)
	w.info.CoresUsed -= a.info.Spec.Cores
	w.info.MemoryUsed -= a.info.Spec.Memory
}

func (w *worker) snapshot() api.WorkerInfo {
	info := w.info
	info.Apps = make([]string, 0, len(w.apps))
	for id := range w.apps {
		info.Apps = append(info.Apps, id)
	}
	return info
}
