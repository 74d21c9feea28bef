package master

import (
	"fmt"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// endpoint hands the master's RPC messages to its loop, in arrival order.
type endpoint struct{ m *Master }

func (e *endpoint) Receive(msg *wire.Message) (any, error) {
	if req, ok := msg.Body.(*api.EventsRequest); ok {
		// The event bus is safe to read concurrently; a long poll must not
		// occupy the loop.
		e.m.serveEvents(msg, req)
		return nil, nil
	}
	r := request{from: msg.From, body: msg.Body, reply: msg.Defer()}
	select {
	case e.m.requests <- r:
	case <-e.m.ctx.Done():
		// Stopping: Run closes this endpoint before stopped is closed, so
		// waiting for stopped here would deadlock with a full queue.
		r.reply(nil, &wire.RemoteError{Code: wire.CodeInternal, Message: "master stopping"})
	}
	return nil, nil
}

func (e *endpoint) PeerConnected(peer string) {}

func (e *endpoint) PeerDisconnected(peer string) {
	e.m.post(func() {
		if w := e.m.byAddr[peer]; w != nil {
			w.connected = false
		}
	})
}

// handle dispatches one request. Loop-only.
func (m *Master) handle(r request) {
	if m.state == api.MasterStandby {
		switch r.body.(type) {
		case *api.MasterStatusRequest, statsRequest:
		default:
			r.reply(nil, m.standbyError())
			return
		}
	}
	switch b := r.body.(type) {
	case statsRequest:
		r.reply(m.stats(), nil)
	case *api.RegisterWorker:
		m.registerWorker(r, b)
	case *api.Heartbeat:
		m.heartbeat(r, b)
	case *api.AppStateChanged:
		m.appStateChanged(r, b)
	case *api.WorkerSchedulerState:
		m.workerSchedulerState(r, b)
	case *api.SubmitApp:
		m.submit(r, b)
	case *api.KillAppRequest:
		m.kill(r, b)
	case *api.AppStatusRequest:
		r.reply(m.appStatus(b.AppID))
	case *api.ListAppsRequest:
		r.reply(m.listApps(b), nil)
	case *api.ListWorkersRequest:
		r.reply(m.listWorkers(), nil)
	case *api.MasterStatusRequest:
		r.reply(m.masterInfo(), nil)
	default:
		r.reply(nil, &wire.RemoteError{Code: api.CodeInvalid, Message: fmt.Sprintf("the master does not handle %s", typeName(r.body))})
	}
}

func notFound(what, id string) error {
	return &wire.RemoteError{Code: api.CodeNotFound, Message: fmt.Sprintf("%s %s not found", what, id)}
}

func refused(format string, a ...any) error {
	return &wire.RemoteError{Code: api.CodeRefused, Message: fmt.Sprintf(format, a...)}
}

// standbyError answers a request a standby cannot serve, naming the
// leader when it is known. The elector is safe to ask from any goroutine.
func (m *Master) standbyError() error {
	leader := m.opts.Elector.Leader()
	msg := "master " + m.opts.URL + " is in standby"
	if leader != "" && leader != m.opts.URL {
		msg += "; the leader is " + leader
	}
	return &wire.RemoteError{Code: api.CodeStandby, Message: msg, Detail: leader}
}
