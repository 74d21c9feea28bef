package master

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/wire"
)

// registerWorker accepts a worker, or refuses it with a reason. The same
// id from the same address re-registers idempotently; a restarted worker
// (new id) at the address of a departed one replaces it and keeps the
// applications it re-attached. Loop-only.
func (m *Master) registerWorker(r request, reg *api.RegisterWorker) {
	now := time.Now()
	addr := net.JoinHostPort(reg.Host, strconv.Itoa(reg.Port))
	if reg.ID == "" || reg.Host == "" || reg.Port < 1 || reg.Port > 65535 || reg.Cores < 1 || reg.Memory < 1 {
		r.reply(nil, &wire.RemoteError{Code: api.CodeInvalid, Message: fmt.Sprintf(
			"worker registration needs an id, a host, a port from 1 to 65535, cores >= 1 and memory >= 1 (got id %q, host %q, port %d, %d cores, %d MB)",
			reg.ID, reg.Host, reg.Port, reg.Cores, reg.Memory)})
		return
	}
	if old := m.workers[reg.ID]; old != nil && old.info.Addr != addr {
		r.reply(nil, refused("worker id %s is already registered from %s", reg.ID, old.info.Addr))
		return
	}
	var replaced *worker
	if old := m.byAddr[addr]; old != nil && old.info.ID != reg.ID {
		if old.info.State == api.WorkerAlive && old.connected {
			r.reply(nil, refused("address %s is already registered by %s", addr, old.info.ID))
			return
		}
		replaced = old
	}
	w := m.workers[reg.ID]
	rejoining := w != nil
	if w == nil {
		w = &worker{apps: map[string]*app{}}
		w.info = api.WorkerInfo{ID: reg.ID, Host: reg.Host, Port: reg.Port, Addr: addr, RegisteredAt: now}
		w.out = newOutbox(m.ctx, &m.wg, m.node, wire.Address{Host: addr, Name: api.WorkerEndpoint}, m.log, m.orderRefused(w))
		m.workers[reg.ID] = w
	}
	if w.out == nil { // a DEAD worker coming back
		w.out = newOutbox(m.ctx, &m.wg, m.node, wire.Address{Host: addr, Name: api.WorkerEndpoint}, m.log, m.orderRefused(w))
	}
	m.byAddr[addr] = w
	w.info.State = api.WorkerAlive
	w.info.Cores, w.info.Memory = reg.Cores, reg.Memory
	w.info.LastHeartbeat = now
	w.info.Kinds = reg.Kinds
	w.kinds = kindSet(reg.Kinds)
	w.connected = true
	if rejoining {
		// A worker numbers its sessions upwards; its reports may arrive
		// out of order, and the newest one is the one it obeys.
		w.session = max(w.session, reg.Session)
	} else {
		w.session = reg.Session
	}
	if replaced != nil {
		m.retireWorker(replaced, w, "replaced by "+reg.ID+" at the same address", now)
	}
	m.reconcile(w, reg.Apps, now)
	b := &recovery.Batch{}
	b.PutWorker(w.snapshot())
	m.persistReply(b, r, func() (any, error) {
		return &api.WorkerRegistered{MasterURL: m.opts.URL, Epoch: m.epoch, HeartbeatInterval: m.opts.WorkerTimeout / 4}, nil
	})
	if rejoining {
		m.log.Info("worker re-registered", "worker", reg.ID, "addr", addr, "cores", reg.Cores, "memory_mb", reg.Memory, "apps", len(reg.Apps))
	} else {
		m.log.Info("worker registered", "worker", reg.ID, "addr", addr, "cores", reg.Cores, "memory_mb", reg.Memory, "apps", len(reg.Apps))
	}
	m.maybeCompleteRecovery()
	m.publish(api.Event{Type: api.EventWorkerJoined, WorkerID: reg.ID, WorkerAddr: addr,
		Message: "registered with " + strconv.Itoa(reg.Cores) + " cores and " + strconv.Itoa(reg.Memory) + " MB"})
	m.scheduleDue = true
	m.reasonsStale = true
}

// reconcile compares what a (re-)registering worker runs with what the
// master placed on it: runs the master knows are adopted as RUNNING, runs
// it does not know are killed (no duplicates after a partition), and runs
// the worker no longer has are handled as lost. Loop-only.
func (m *Master) reconcile(w *worker, running []api.RunningApp, now time.Time) {
	reported := map[string]bool{}
	for _, ra := range running {
		reported[ra.AppID] = true
		a := m.apps[ra.AppID]
		if a != nil && a.worker != nil && a.worker != w && ra.LaunchedBy == a.worker.info.ID && a.info.Run == ra.Run {
			// The worker that launched it was restarted (on another port)
			// and re-attached it: the run moves to the new worker.
			m.log.Info("run re-attached by a restarted worker", "app", a.info.ID, "run", a.info.Run, "from", a.worker.info.ID, "to", w.info.ID)
			a.worker.release(a)
			w.take(a)
			a.worker = w
			a.info.WorkerID, a.info.WorkerAddr = w.info.ID, w.info.Addr
		}
		if ra.State.IsFinal() {
			// It ended while the master could not be told.
			if a != nil && a.info.Run == ra.Run && a.worker == w && !a.info.State.IsFinal() {
				m.runEnded(a, &api.AppStateChanged{WorkerID: w.info.ID, AppID: ra.AppID, Run: ra.Run, State: ra.State, Message: ra.Message, ExitCode: ra.ExitCode}, now)
				b := &recovery.Batch{}
				b.PutApp(a.info)
				m.persist(b, func() {})
			}
			continue
		}
		if a == nil || a.info.State.IsFinal() || a.info.Run != ra.Run || (a.worker != nil && a.worker != w) || a.worker == nil {
			m.ids.Observe(ra.AppID)
			m.log.Warn("killing an application the master does not know on this worker", "worker", w.info.ID, "app", ra.AppID, "run", ra.Run)
			w.out.send(&api.KillApp{Epoch: m.epoch, Session: w.session, AppID: ra.AppID, Run: ra.Run, Reason: "unknown to the master"})
			continue
		}
		if a.info.State == api.AppLaunching || a.info.State == api.AppUnknown {
			a.info.StartedAt = ra.StartedAt
			m.setAppState(a, api.AppRunning, "running on "+w.info.ID, now)
		}
		if a.info.KillRequested {
			// A kill sent in an older session was refused: send it again.
			w.out.send(&api.KillApp{Epoch: m.epoch, Session: w.session, AppID: a.info.ID, Run: a.info.Run, Reason: "killed on request"})
		}
	}
	for id, a := range w.apps {
		if reported[id] {
			continue
		}
		m.runLost(a, "no longer running on "+w.info.ID, true, now)
	}
}

// retireWorker marks a worker DEAD because another took its place,
// handing over the runs the new one reported. Loop-only.
func (m *Master) retireWorker(old, successor *worker, reason string, now time.Time) {
	for _, a := range old.apps {
		old.release(a)
		a.worker = nil
		if successor != nil {
			// The restarted worker may have re-attached it; reconcile
			// decides whether it still runs.
			successor.take(a)
			a.worker = successor
			a.info.WorkerID, a.info.WorkerAddr = successor.info.ID, successor.info.Addr
		}
	}
	m.markDead(old, reason, now)
}

func (m *Master) heartbeat(r request, hb *api.Heartbeat) {
	w := m.workers[hb.WorkerID]
	if w == nil || w.info.State != api.WorkerAlive {
		// Unknown, or declared dead meanwhile: it must register again so
		// that its applications are reconciled.
		m.log.Info("heartbeat from an unregistered worker; asking it to re-register", "worker", hb.WorkerID, "from", r.from.String())
		m.sendTo(r.from.Host, &api.ReconnectWorker{MasterURL: m.opts.URL})
		r.reply(nil, nil)
		return
	}
	w.info.LastHeartbeat = time.Now()
	w.connected = true
	r.reply(nil, nil)
}

// sendTo sends a one-off message to a worker's endpoint without blocking
// the loop. Loop-only.
func (m *Master) sendTo(host string, msg any) {
	if w := m.byAddr[host]; w != nil && w.out != nil && w.info.State == api.WorkerAlive {
		w.out.send(msg)
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		ctx, cancel := context.WithTimeout(m.ctx, sendTimeout)
		defer cancel()
		if err := m.node.Send(ctx, wire.Address{Host: host, Name: api.WorkerEndpoint}, msg); err != nil && m.ctx.Err() == nil {
			m.log.Warn("cannot send to worker", "addr", host, "message", typeName(msg), "error", err.Error())
		}
	}()
}

// checkWorkers declares silent workers DEAD and forgets long-dead ones.
// It runs every WorkerTimeout/4, so a silent worker is found within 1.25×
// the timeout. Loop-only.
func (m *Master) checkWorkers(now time.Time) {
	timeout := m.opts.WorkerTimeout
	for _, w := range m.workers {
		silent := now.Sub(w.info.LastHeartbeat)
		switch {
		case w.info.State == api.WorkerAlive && silent > timeout:
			m.log.Warn("worker timed out", "worker", w.info.ID, "addr", w.info.Addr, "silent_for", silent.Round(time.Millisecond).String())
			m.loseWorker(w, "no heartbeat for "+silent.Round(time.Second).String(), now)
		case w.info.State.IsFinal() && silent > time.Duration(m.opts.DeadWorkerPersistence+1)*timeout:
			m.forgetWorker(w)
		}
	}
}

// loseWorker marks a worker DEAD and deals with its runs: supervised
// applications are relaunched elsewhere under a new id, others end in
// ERROR. Loop-only.
func (m *Master) loseWorker(w *worker, reason string, now time.Time) {
	for _, a := range w.apps {
		m.runLost(a, "worker "+w.info.ID+" lost: "+reason, false, now)
	}
	m.markDead(w, reason, now)
	m.scheduleDue = true
}

func (m *Master) markDead(w *worker, reason string, now time.Time) {
	m.reasonsStale = true
	w.info.State = api.WorkerDead
	if w.out != nil {
		w.out.close()
		w.out = nil
	}
	if m.byAddr[w.info.Addr] == w {
		delete(m.byAddr, w.info.Addr)
	}
	b := &recovery.Batch{}
	b.PutWorker(w.snapshot())
	m.persist(b, func() {})
	m.publish(api.Event{Type: api.EventWorkerLost, WorkerID: w.info.ID, WorkerAddr: w.info.Addr, Message: reason, Time: now})
}

func (m *Master) forgetWorker(w *worker) {
	m.reasonsStale = true
	delete(m.workers, w.info.ID)
	if m.byAddr[w.info.Addr] == w {
		delete(m.byAddr, w.info.Addr)
	}
	b := &recovery.Batch{}
	b.DeleteWorker(w.info.ID)
	m.persist(b, func() {})
	m.log.Info("forgot dead worker", "worker", w.info.ID)
}

func (m *Master) listWorkers() *api.WorkerList {
	out := &api.WorkerList{Workers: make([]api.WorkerInfo, 0, len(m.workers))}
	for _, w := range m.workers {
		out.Workers = append(out.Workers, w.snapshot())
	}
	sort.Slice(out.Workers, func(i, j int) bool { return out.Workers[i].ID < out.Workers[j].ID })
	return out
}

// workerSchedulerState is a worker's answer to MasterChanged: it is
// reconciled like a re-registration. Loop-only.
func (m *Master) workerSchedulerState(r request, st *api.WorkerSchedulerState) {
	m.reasonsStale = true
	w := m.workers[st.WorkerID]
	if w == nil || w.info.State != api.WorkerUnknown || w.out == nil {
		// Unknown to this term, or declared dead meanwhile (it answered
		// after the recovery timeout): it must register again, which
		// reconciles it from scratch.
		m.sendTo(r.from.Host, &api.ReconnectWorker{MasterURL: m.opts.URL})
		r.reply(nil, nil)
		return
	}
	now := time.Now()
	w.info.State = api.WorkerAlive
	w.info.LastHeartbeat = now
	w.connected = true
	w.session = max(w.session, st.Session)
	m.reconcile(w, st.Apps, now)
	m.scheduleDue = true
	m.maybeCompleteRecovery()
	// Answered once what reconcile recorded is durable: the worker then
	// forgets the outcomes it reported.
	b := &recovery.Batch{}
	b.PutWorker(w.snapshot())
	m.persistReply(b, r, func() (any, error) { return nil, nil })
}

func kindSet(kinds []string) map[string]bool {
	set := make(map[string]bool, len(kinds))
	for _, k := range kinds {
		set[k] = true
	}
	return set
}

// orderRefused returns what w's outbox calls when w refuses an order. A
// worker that has seen a newer leadership term means this master is
// deposed: it steps down. One that answers in another registration
// session than the master knows is told to register again, which
// reconciles everything placed on it. Runs on the outbox's goroutine.
func (m *Master) orderRefused(w *worker) func(any, *wire.RemoteError) {
	return func(order any, err *wire.RemoteError) {
		m.post(func() {
			if m.workers[w.info.ID] != w {
				return
			}
			m.log.Warn("worker refused an order", "worker", w.info.ID, "order", typeName(order), "code", err.Code, "reason", err.Message)
			switch err.Code {
			case api.CodeStaleEpoch:
				m.stepDown("worker " + w.info.ID + " follows a newer leadership term")
			case api.CodeStaleSession:
				if w.out != nil && w.info.State == api.WorkerAlive {
					w.out.send(&api.ReconnectWorker{MasterURL: m.opts.URL})
				}
			}
		})
	}
}
