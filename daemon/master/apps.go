package master

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/wire"
)

// submit validates a spec, records the application and acknowledges it
// once it is persisted. Loop-only.
func (m *Master) submit(r request, req *api.SubmitApp) {
	spec := req.Spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		r.reply(nil, &wire.RemoteError{Code: api.CodeInvalid, Message: "invalid application: " + err.Error()})
		return
	}
	if !m.knownKind(spec.EntryPoint) {
		r.reply(nil, refused("unknown application kind %q; known kinds: %s", spec.EntryPoint, strings.Join(m.knownKinds(), ", ")))
		return
	}
	if req.RequestID != "" {
		if id, ok := m.byRequest[req.RequestID]; ok {
			// A retry of a submission that was recorded: answer as before.
			m.persistReply(&recovery.Batch{}, r, func() (any, error) {
				return &api.SubmitAppResponse{AppID: id, Message: "Application already submitted as " + id}, nil
			})
			return
		}
	}
	now := time.Now()
	a := &app{info: api.AppInfo{ID: m.ids.Next(now), Spec: spec, SubmittedAt: now, RequestID: req.RequestID}}
	m.addApp(a, now)
	m.submissions.Add(1)
	b := &recovery.Batch{}
	b.PutApp(a.info)
	m.persistReply(b, r, func() (any, error) {
		return &api.SubmitAppResponse{AppID: a.info.ID, Message: "Application successfully submitted as " + a.info.ID}, nil
	})
}

// addApp records a new application and queues it. Loop-only.
func (m *Master) addApp(a *app, now time.Time) {
	m.apps[a.info.ID] = a
	if a.info.RequestID != "" {
		m.byRequest[a.info.RequestID] = a.info.ID
	}
	m.setAppState(a, api.AppSubmitted, "waiting for a worker", now)
	m.enqueue(a)
}

func (m *Master) knownKind(kind string) bool {
	if m.kinds[kind] {
		return true
	}
	for _, w := range m.workers {
		if w.info.State == api.WorkerAlive && w.kinds[kind] {
			return true
		}
	}
	return false
}

func (m *Master) knownKinds() []string {
	set := map[string]bool{}
	for k := range m.kinds {
		set[k] = true
	}
	for _, w := range m.workers {
		if w.info.State == api.WorkerAlive {
			for k := range w.kinds {
				set[k] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// setAppState changes an application's state and publishes the change.
// Loop-only.
func (m *Master) setAppState(a *app, state api.AppState, msg string, now time.Time) {
	counted := m.apps[a.info.ID] == a // an ended app may have left apps
	if counted {
		m.uncount(a)
	}
	a.setState(state, msg, now)
	if counted {
		m.count(a)
	}
	m.publish(api.Event{Type: api.EventAppStateChanged, AppID: a.info.ID, State: state, Message: msg, WorkerID: a.info.WorkerID, Time: now})
}

// kill ends an application: at once if it has not been placed, through
// its worker otherwise. Loop-only.
func (m *Master) kill(r request, req *api.KillAppRequest) {
	a := m.apps[req.AppID]
	if a == nil {
		r.reply(nil, notFound("application", req.AppID))
		return
	}
	now := time.Now()
	resp := &api.KillAppResponse{AppID: a.info.ID}
	switch {
	case a.info.State.IsFinal() || a.info.State == api.AppRelaunching:
		r.reply(nil, refused("application %s already ended (%s)", a.info.ID, a.info.State))
		return
	case a.worker == nil:
		m.unqueue(a)
		m.finish(a, api.AppKilled, "killed before it was launched", nil, now)
		resp.Message = "Application " + a.info.ID + " killed"
	default:
		// The request is recorded before it is acknowledged: a new leader
		// sends it again when the worker reports the run.
		a.info.KillRequested = true
		w, run := a.worker, a.info.Run
		resp.Message = "Kill request for " + a.info.ID + " submitted"
		resp.State = a.info.State
		b := &recovery.Batch{}
		b.PutApp(a.info)
		// Orders leave in persist order, so this kill cannot overtake the
		// launch it cancels.
		m.persistReply(b, r, func() (any, error) {
			if a.worker == w && a.info.Run == run && w.out != nil {
				w.out.send(&api.KillApp{Epoch: m.epoch, Session: w.session, AppID: a.info.ID, Run: run, Reason: "killed on request"})
			}
			return resp, nil
		})
		return
	}
	resp.State = a.info.State
	b := &recovery.Batch{}
	b.PutApp(a.info)
	m.persistReply(b, r, func() (any, error) { return resp, nil })
}

// unqueue removes an application from the waiting queue and cancels a
// pending restart. Loop-only.
func (m *Master) unqueue(a *app) {
	if a.restartTimer != nil {
		a.restartTimer.Stop()
		a.restartTimer = nil
	}
	for i, w := range m.waiting {
		if w == a {
			m.waiting = append(m.waiting[:i], m.waiting[i+1:]...)
			return
		}
	}
}

// appStateChanged applies a worker's report about a run. Reports about an
// older run or from a worker the run is not placed on are stale and
// ignored.
//
// The report is acknowledged only once the change is durable: a worker
// forgets a run's outcome once acknowledged, so a new leader must find it
// in the store. Loop-only.
func (m *Master) appStateChanged(r request, c *api.AppStateChanged) {
	a := m.apps[c.AppID]
	if a == nil || a.info.Run != c.Run || a.worker == nil || a.worker.info.ID != c.WorkerID || a.info.State.IsFinal() {
		m.log.Debug("ignoring a stale application report", "app", c.AppID, "run", c.Run, "worker", c.WorkerID, "state", c.State)
		// Still answered after earlier commits: the report may repeat one
		// whose change is on its way to the store.
		m.persistReply(&recovery.Batch{}, r, func() (any, error) { return nil, nil })
		return
	}
	now := time.Now()
	switch c.State {
	case api.AppRunning:
		if a.info.State != api.AppRunning {
			a.info.StartedAt = now
			m.setAppState(a, api.AppRunning, firstNonEmpty(c.Message, "running on "+a.worker.info.ID), now)
		}
	case api.AppFinished, api.AppFailed, api.AppKilled, api.AppError:
		m.runEnded(a, c, now)
	default:
		// A worker reports a run starting or ending, nothing else.
		m.log.Warn("ignoring an application report with an unexpected state", "app", c.AppID, "worker", c.WorkerID, "state", c.State)
		r.reply(nil, &wire.RemoteError{Code: api.CodeInvalid, Message: fmt.Sprintf("a worker reports RUNNING or a final state, not %q", c.State)})
		return
	}
	b := &recovery.Batch{}
	b.PutApp(a.info)
	m.persistReply(b, r, func() (any, error) { return nil, nil })
}

// runEnded handles the end of a run: a failed run may be restarted under
// the restart policy; anything else is final. Loop-only.
func (m *Master) runEnded(a *app, c *api.AppStateChanged, now time.Time) {
	a.worker.release(a)
	a.worker = nil
	a.info.ExitCode = c.ExitCode
	state, msg := c.State, c.Message
	if a.info.KillRequested {
		state, msg = api.AppKilled, firstNonEmpty(msg, "killed on request")
	}
	if state == api.AppFailed && a.info.Spec.Restart.ShouldRestart(a.info.Restarts) {
		a.info.Restarts++
		delay := a.info.Spec.Restart.Delay(a.info.Restarts)
		m.setAppState(a, api.AppFailed, msg, now)
		m.setAppState(a, api.AppSubmitted, fmt.Sprintf("restart %d of %d in %s after: %s", a.info.Restarts, a.info.Spec.Restart.MaxAttempts, delay, msg), now)
		a.restartTimer = time.AfterFunc(delay, func() {
			m.post(func() {
				if a.restartTimer == nil || a.info.State != api.AppSubmitted || m.apps[a.info.ID] != a {
					return
				}
				a.restartTimer = nil
				m.enqueue(a)
			})
		})
		m.scheduleDue = true
		return
	}
	m.finish(a, state, msg, c.ExitCode, now)
	m.scheduleDue = true
}

// runLost handles a run whose worker is gone or no longer has it:
// supervised applications are relaunched under a new id, runs that never
// started are queued again, others end in ERROR. Loop-only.
//
// notStarted says the run provably never started: its worker answered
// without it, and the session it answered in refuses the launch order
// still in flight. Only then is a launch queued again under the same id;
// a run that may have started on a silent worker is lost like a running
// one (DESIGN §4: relaunched if supervised, else ERROR), or it could run
// twice.
func (m *Master) runLost(a *app, reason string, notStarted bool, now time.Time) {
	if a.worker != nil {
		a.worker.release(a)
		a.worker = nil
	}
	switch {
	case a.info.KillRequested:
		m.finish(a, api.AppKilled, "killed; "+reason, nil, now)
	case notStarted && (a.info.State == api.AppLaunching || (a.info.State == api.AppUnknown && a.before == api.AppLaunching)):
		m.setAppState(a, api.AppSubmitted, "launch lost ("+reason+"); waiting for a worker", now)
		m.enqueue(a)
	case a.info.Spec.Supervise:
		m.relaunch(a, reason, now)
	default:
		m.finish(a, api.AppError, reason, nil, now)
	}
	b := &recovery.Batch{}
	b.PutApp(a.info)
	m.persist(b, func() {})
	m.scheduleDue = true
}

// relaunch replaces a supervised application whose worker was lost by a
// new one with a new id, as the originals do. Loop-only.
func (m *Master) relaunch(old *app, reason string, now time.Time) {
	fresh := &app{info: api.AppInfo{ID: m.ids.Next(now), Spec: old.info.Spec, SubmittedAt: now, RelaunchedFrom: old.info.ID}}
	old.info.RelaunchedAs = fresh.info.ID
	m.setAppState(old, api.AppRelaunching, "relaunched as "+fresh.info.ID+": "+reason, now)
	m.retire(old)
	m.addApp(fresh, now)
	m.publish(api.Event{Type: api.EventAppRelaunched, AppID: old.info.ID, NewAppID: fresh.info.ID, Message: reason, Time: now})
	b := &recovery.Batch{}
	b.PutApp(fresh.info)
	m.persist(b, func() {})
	m.log.Info("relaunching supervised application", "app", old.info.ID, "new_app", fresh.info.ID, "reason", reason)
}

// finish puts an application in a final state and retires it. Loop-only.
func (m *Master) finish(a *app, state api.AppState, msg string, exitCode *int, now time.Time) {
	if a.restartTimer != nil {
		a.restartTimer.Stop()
		a.restartTimer = nil
	}
	a.info.ExitCode = exitCode
	a.info.EndedAt = now
	m.setAppState(a, state, msg, now)
	m.retire(a)
}

// retire moves an ended application to the retained list, dropping the
// oldest beyond RetainedApps. Loop-only.
func (m *Master) retire(a *app) {
	m.completed = append(m.completed, a)
	if excess := len(m.completed) - m.opts.RetainedApps; excess > 0 {
		b := &recovery.Batch{}
		for _, old := range m.completed[:excess] {
			m.uncount(old)
			delete(m.apps, old.info.ID)
			delete(m.byRequest, old.info.RequestID)
			b.DeleteApp(old.info.ID)
		}
		m.completed = append(m.completed[:0:0], m.completed[excess:]...)
		m.persist(b, func() {})
	}
}

// schedule places waiting applications and sends the launch orders once
// the placements are persisted. A pass stops placing as soon as no core
// is free, so with a long queue and a busy cluster it costs what it
// places, not what waits. The reasons of the waiting apps depend only on
// the alive workers, so they are computed for the apps queued since the
// last pass, and for all only when the workers changed. Loop-only.
func (m *Master) schedule() {
	m.scheduleDue = false
	if m.state != api.MasterAlive || len(m.waiting) == 0 {
		return
	}
	var slots []slot
	for _, w := range m.workers {
		if w.info.State == api.WorkerAlive {
			slots = append(slots, w.slot())
		}
	}
	p := newPlacer(slots, m.opts.SpreadOut)
	// Apps from index fresh on were queued since the last pass.
	fresh := len(m.waiting) - min(m.unreasoned, len(m.waiting))
	if m.reasonsStale {
		fresh = 0
	}
	if p.full() && fresh == len(m.waiting) {
		return
	}
	now := time.Now()
	b := &recovery.Batch{}
	var launches []func()
	reasons := map[shape]string{}
	still := m.waiting[:0]
	for i := 0; i < len(m.waiting); i++ {
		if p.full() && i < fresh {
			// Nothing more fits, and these keep their reasons: on to the
			// apps queued since the last pass.
			still = append(still, m.waiting[i:fresh]...)
			i = fresh - 1
			continue
		}
		a := m.waiting[i]
		d := a.demand()
		wi := -1
		if !p.full() {
			wi = p.place(d)
		}
		if wi < 0 {
			if i >= fresh {
				sh := shape{d.kind, d.cores, d.memory}
				reason, seen := reasons[sh]
				if !seen {
					reason = waitReason(d, slots)
					reasons[sh] = reason
				}
				a.info.Message = reason
			}
			still = append(still, a)
			continue
		}
		w := m.workers[p.free[wi].id]
		if observe := m.opts.ObserveSchedulingLatency; observe != nil {
			observe(now.Sub(a.queuedAt))
		}
		a.info.Run++
		a.worker = w
		a.info.WorkerID, a.info.WorkerAddr = w.info.ID, w.info.Addr
		w.take(a)
		m.setAppState(a, api.AppLaunching, "launching on "+w.info.ID, now)
		b.PutApp(a.info)
		app, run := a, a.info.Run
		launches = append(launches, func() {
			// Sent only if the placement still stands: a re-registration
			// may have counted the launch lost meanwhile.
			if app.worker == w && app.info.Run == run && app.info.State == api.AppLaunching && w.out != nil {
				w.out.send(&api.LaunchApp{Epoch: m.epoch, Session: w.session, AppID: app.info.ID, Run: run, Spec: app.info.Spec})
			}
		})
	}
	m.reasonsStale, m.unreasoned = false, 0
	for i := len(still); i < len(m.waiting); i++ {
		m.waiting[i] = nil
	}
	m.waiting = still
	if len(launches) == 0 {
		return
	}
	m.persist(b, func() {
		for _, launch := range launches {
			launch()
		}
	})
}

// enqueue appends an application to the waiting queue. Loop-only.
func (m *Master) enqueue(a *app) {
	a.queuedAt = time.Now()
	m.waiting = append(m.waiting, a)
	m.unreasoned++
	m.scheduleDue = true
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
