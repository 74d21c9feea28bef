package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// maxResendsPerBeat bounds the unacknowledged ends reported again with
// one heartbeat.
const maxResendsPerBeat = 64

// Registration retries back off from registerRetryMin to registerRetryMax.
const (
	registerRetryMin = 250 * time.Millisecond
	registerRetryMax = 10 * time.Second
)

// endpoint hands the worker's RPC messages to its loop.
type endpoint struct{ w *Worker }

func (e *endpoint) Receive(m *wire.Message) (any, error) {
	if req, ok := m.Body.(*api.ReadLogRequest); ok {
		e.w.serveLog(m, req)
		return nil, nil
	}
	reply := m.Defer()
	e.w.post(func() { e.w.handle(m.From, m.Body, reply) })
	return nil, nil
}

func (e *endpoint) PeerConnected(peer string) {}

// PeerDisconnected starts looking for the leader again when the
// connection to it drops.
func (e *endpoint) PeerDisconnected(peer string) {
	e.w.post(func() {
		if e.w.registered && peer == e.w.master.Host {
			e.w.log.Warn("connection to master lost; registering again", "master", wire.Scheme+peer)
			e.w.registered = false
			e.w.startRegistration()
		}
	})
}

// handle dispatches one message. Loop-only.
func (w *Worker) handle(from wire.Address, body any, reply func(any, error)) {
	switch b := body.(type) {
	case *api.LaunchApp:
		reply(nil, w.launch(b))
	case *api.KillApp:
		reply(nil, w.kill(b))
	case *api.MasterChanged:
		reply(nil, w.masterChanged(from, b))
	case *api.ReconnectWorker:
		w.log.Info("master asked this worker to register again", "master", b.MasterURL)
		w.registered = false
		w.startRegistration()
		reply(nil, nil)
	default:
		reply(nil, &wire.RemoteError{Code: api.CodeInvalid, Message: "the worker does not handle " + fmt.Sprintf("%T", body)})
	}
}

// checkEpoch refuses orders from a leadership term older than the newest
// seen, so a deposed master that resumes cannot act. Loop-only.
func (w *Worker) checkEpoch(epoch uint64, what string) error {
	if epoch < w.epoch {
		w.log.Warn("refusing an order from an older leadership term", "order", what, "epoch", epoch, "current_epoch", w.epoch)
		return &wire.RemoteError{Code: api.CodeStaleEpoch, Message: fmt.Sprintf("%s from epoch %d refused: epoch %d is current", what, epoch, w.epoch)}
	}
	w.epoch = epoch
	return nil
}

// checkSession refuses orders of a registration session the worker has
// replaced. (The master keeps the newest session a worker reported, so
// reports that cross cannot leave it on an old one.) Loop-only.
func (w *Worker) checkSession(session uint64, what string) error {
	if session == w.session {
		return nil
	}
	w.log.Info("refusing an order of another registration session", "order", what, "session", session, "current_session", w.session)
	return &wire.RemoteError{Code: api.CodeStaleSession, Message: fmt.Sprintf("%s of session %d refused: session %d is current", what, session, w.session)}
}

// startRegistrationAfter starts registering after delay, unless it has
// started meanwhile. Loop-only.
func (w *Worker) startRegistrationAfter(delay time.Duration) {
	if w.registering {
		return
	}
	w.registering = true
	time.AfterFunc(delay, func() { w.post(func() { w.tryRegister(0) }) })
}

// startRegistration asks every master to accept this worker, in parallel,
// until one (the leader) does. Loop-only.
func (w *Worker) startRegistration() {
	if w.registering {
		return
	}
	w.registering = true
	w.tryRegister(0)
}

// tryRegister runs one registration round, unless a new leader's
// MasterChanged has registered the worker meanwhile. Loop-only.
func (w *Worker) tryRegister(attempt int) {
	if !w.registering {
		return
	}
	msg := w.registration()
	type result struct {
		master wire.Address
		reply  *api.WorkerRegistered
		err    error
	}
	results := make(chan result, len(w.opts.Masters))
	for _, m := range w.opts.Masters {
		w.goAttach(func() {
			ctx, cancel := context.WithTimeout(w.ctx, w.opts.AskTimeout)
			defer cancel()
			v, err := w.node.Ask(ctx, m, msg)
			r := result{master: m, err: err}
			if err == nil {
				r.reply, _ = v.(*api.WorkerRegistered)
				if r.reply == nil {
					r.err = fmt.Errorf("unexpected answer %T", v)
				}
			}
			results <- r
		})
	}
	w.goAttach(func() {
		var accepted *result
		var lastErr error
		for range w.opts.Masters {
			r := <-results
			switch {
			case r.err == nil && (accepted == nil || r.reply.Epoch > accepted.reply.Epoch):
				accepted = &r
			case r.err != nil:
				lastErr = r.err
				var re *wire.RemoteError
				if errors.As(r.err, &re) && re.Code == api.CodeRefused {
					w.log.Error("master refused registration", "master", r.master.String(), "reason", re.Message)
				}
			}
		}
		w.post(func() {
			if accepted != nil {
				w.registeredWith(accepted.master, accepted.reply, msg)
				return
			}
			delay := min(registerRetryMin<<min(attempt, 10), registerRetryMax)
			delay += rand.N(delay / 4)
			if attempt%10 == 0 {
				w.log.Warn("no master accepted the registration; retrying", "attempt", attempt+1, "retry_in", delay.Round(time.Millisecond).String(), "last_error", errString(lastErr))
			}
			time.AfterFunc(delay, func() { w.post(func() { w.tryRegister(attempt + 1) }) })
		})
	})
}

// registration describes the worker and everything it runs, including
// runs whose end the master has not acknowledged. It starts a new
// session: orders still in flight from the old one are refused, since the
// master decides from this report alone. Loop-only.
func (w *Worker) registration() *api.RegisterWorker {
	w.session++
	return &api.RegisterWorker{
		ID: w.id, Host: w.host, Port: w.port, Cores: w.opts.Cores, Memory: w.opts.Memory,
		Kinds: w.opts.Kinds.Names(), Apps: w.report(), Session: w.session,
	}
}

// report lists current runs and unacknowledged ended ones. Loop-only.
func (w *Worker) report() []api.RunningApp {
	var out []api.RunningApp
	for _, r := range w.apps {
		out = append(out, api.RunningApp{AppID: r.id, Run: r.run, Spec: r.spec, State: api.AppRunning, StartedAt: r.startedAt, LaunchedBy: r.launchedBy})
	}
	for _, r := range w.finished {
		if !r.acked {
			out = append(out, api.RunningApp{AppID: r.id, Run: r.run, Spec: r.spec, State: r.state, StartedAt: r.startedAt, ExitCode: r.exitCode, Message: r.message, LaunchedBy: r.launchedBy})
		}
	}
	return out
}

// registeredWith records the leader that accepted us. The runs we
// reported are now known to it. Loop-only.
func (w *Worker) registeredWith(master wire.Address, reply *api.WorkerRegistered, sent *api.RegisterWorker) {
	w.registering = false
	if reply.Epoch < w.epoch {
		w.log.Warn("ignoring registration from an older leadership term", "master", reply.MasterURL, "epoch", reply.Epoch, "current_epoch", w.epoch)
		w.startRegistrationAfter(registerRetryMax)
		return
	}
	w.epoch = reply.Epoch
	w.master = master
	w.registered = true
	w.hbInterval = reply.HeartbeatInterval
	if w.hbInterval <= 0 {
		w.hbInterval = 15 * time.Second
	}
	w.markAcked(sent.Apps)
	// The exact wording is what operators (and the original's docs) look for.
	w.log.Info("Successfully registered with master " + reply.MasterURL)
}

// masterChanged follows a new leader after a failover and tells it what
// this worker runs. Loop-only.
func (w *Worker) masterChanged(from wire.Address, mc *api.MasterChanged) error {
	if err := w.checkEpoch(mc.Epoch, "master change"); err != nil {
		return err
	}
	addr, err := wire.ParseAddress(mc.MasterURL)
	if err != nil {
		return fmt.Errorf("master change: %w", err)
	}
	w.master = wire.Address{Host: addr.Host, Name: api.MasterEndpoint}
	w.registered = true
	w.registering = false
	w.log.Info("master changed", "master", mc.MasterURL, "epoch", mc.Epoch)
	w.session++
	state := &api.WorkerSchedulerState{WorkerID: w.id, Apps: w.report(), Session: w.session}
	to := w.master
	w.goAttach(func() {
		ctx, cancel := context.WithTimeout(w.ctx, w.opts.AskTimeout)
		defer cancel()
		if _, err := w.node.Ask(ctx, to, state); err != nil {
			w.log.Warn("cannot tell the new master what this worker runs", "master", mc.MasterURL, "error", err.Error())
			return
		}
		w.post(func() { w.markAcked(state.Apps) })
	})
	return nil
}

func (w *Worker) sendHeartbeat() {
	if !w.registered {
		return
	}
	// Ends the master has not acknowledged (the report was lost or
	// refused as overloaded) are reported again: until then the master
	// holds the run's cores and memory.
	resent := 0
	for _, r := range w.finished {
		if !r.acked && resent < maxResendsPerBeat {
			w.reportState(r, r.state, r.message, r.exitCode)
			resent++
		}
	}
	to := w.master
	w.goAttach(func() {
		ctx, cancel := context.WithTimeout(w.ctx, w.opts.AskTimeout)
		defer cancel()
		if err := w.node.Send(ctx, to, &api.Heartbeat{WorkerID: w.id}); err != nil && w.ctx.Err() == nil {
			w.post(func() {
				if w.registered && w.master == to {
					w.log.Warn("heartbeat failed; registering again", "master", to.String(), "error", err.Error())
					w.registered = false
					w.startRegistration()
				}
			})
		}
	})
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", p, err)
	}
	return host, port, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
