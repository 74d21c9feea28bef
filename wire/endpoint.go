package wire

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
)

// Handler handles an endpoint's messages, one at a time. For an Ask, the
// returned reply or error is the answer, unless the handler called
// m.Defer, in which case the answer is whatever is passed to the function
// Defer returned. For a Send, the return values are ignored (an error is
// logged).
type Handler interface {
	Receive(m *Message) (reply any, err error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(m *Message) (any, error)

// Receive calls f(m).
func (f HandlerFunc) Receive(m *Message) (any, error) { return f(m) }

// ConnObserver is implemented by handlers that want to know when peers
// connect and disconnect. Notifications arrive through the mailbox, in order
// with the messages. peer is the peer's listen address (or anonymous key),
// the Host of its messages' From.
type ConnObserver interface {
	PeerConnected(peer string)
	PeerDisconnected(peer string)
}

type peerEvent struct {
	peer      string
	connected bool
}

type mail struct {
	msg   *Message
	event peerEvent
}

// Endpoint is a registered handler with its mailbox and goroutine. Its Send
// and Ask name it as the sender, so peers can answer it.
type Endpoint struct {
	node     *Node
	name     string
	handler  Handler
	observer ConnObserver

	mu      sync.Mutex
	queue   []mail
	stopped bool
	signal  chan struct{} // capacity 1: "the queue is not empty"
	done    chan struct{}
}

// Register creates the endpoint name and starts its goroutine.
func (n *Node) Register(name string, h Handler) (*Endpoint, error) {
	if name == "" {
		return nil, fmt.Errorf("wire: register: endpoint name is empty")
	}
	ep := &Endpoint{
		node:    n,
		name:    name,
		handler: h,
		signal:  make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	ep.observer, _ = h.(ConnObserver)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, ErrClosed
	}
	if _, ok := n.endpoints[name]; ok {
		return nil, fmt.Errorf("wire: register: endpoint %q already exists", name)
	}
	n.endpoints[name] = ep
	n.wg.Add(1)
	go ep.run()
	return ep, nil
}

// Name is the endpoint's name.
func (ep *Endpoint) Name() string { return ep.name }

// Address is the endpoint's address as peers see it.
func (ep *Endpoint) Address() Address { return Address{Host: ep.node.Addr(), Name: ep.name} }

// Send delivers body to the endpoint at to, naming ep as the sender.
func (ep *Endpoint) Send(ctx context.Context, to Address, body any) error {
	return ep.node.send(ctx, ep.name, to, body)
}

// Ask sends body to the endpoint at to and waits for its answer, naming ep
// as the sender.
func (ep *Endpoint) Ask(ctx context.Context, to Address, body any) (any, error) {
	return ep.node.ask(ctx, ep.name, to, body)
}

// Close unregisters the endpoint and waits for its goroutine to end. Asks
// still queued are answered with an error.
func (ep *Endpoint) Close() {
	ep.node.mu.Lock()
	if ep.node.endpoints[ep.name] == ep {
		delete(ep.node.endpoints, ep.name)
	}
	ep.node.mu.Unlock()
	ep.stop()
	<-ep.done
}

func (ep *Endpoint) stop() {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if !ep.stopped {
		ep.stopped = true
		close(ep.signal)
	}
}

// deliver queues a message. It never blocks; false means the mailbox is
// full or closed.
func (ep *Endpoint) deliver(m mail) bool {
	ep.mu.Lock()
	if ep.stopped || len(ep.queue) >= ep.node.cfg.MailboxSize {
		ep.mu.Unlock()
		return false
	}
	ep.queue = append(ep.queue, m)
	// Signal under the lock: stop closes the channel under it too.
	select {
	case ep.signal <- struct{}{}:
	default:
	}
	ep.mu.Unlock()
	return true
}

// notify queues a connection event; it is dropped only if the endpoint is
// closing or its mailbox is full.
func (ep *Endpoint) notify(e peerEvent) { ep.deliver(mail{event: e}) }

func (ep *Endpoint) run() {
	defer ep.node.wg.Done()
	defer close(ep.done)
	var batch []mail
	for {
		_, open := <-ep.signal
		ep.mu.Lock()
		batch, ep.queue = ep.queue, batch[:0]
		ep.mu.Unlock()
		for i := range batch {
			if open {
				ep.handle(batch[i])
			} else if m := batch[i].msg; m != nil {
				m.respond(nil, &RemoteError{Code: CodeNoEndpoint, Message: fmt.Sprintf("endpoint %q stopped", ep.name)})
			}
			batch[i] = mail{}
		}
		if !open {
			return
		}
	}
}

func (ep *Endpoint) handle(m mail) {
	defer func() {
		if r := recover(); r != nil {
			ep.node.log.Error("endpoint handler panicked", "endpoint", ep.name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if m.msg != nil {
				m.msg.respond(nil, &RemoteError{Code: CodeInternal, Message: fmt.Sprintf("endpoint %q failed: %v", ep.name, r)})
			}
		}
	}()
	if m.msg == nil {
		if m.event.connected {
			ep.observer.PeerConnected(m.event.peer)
		} else {
			ep.observer.PeerDisconnected(m.event.peer)
		}
		return
	}
	reply, err := ep.handler.Receive(m.msg)
	if m.msg.deferred {
		return
	}
	if !m.msg.ask && err != nil {
		ep.node.log.Warn("message handler failed", "endpoint", ep.name, "from", m.msg.From.String(), "type", fmt.Sprintf("%T", m.msg.Body), "error", err.Error())
		return
	}
	m.msg.respond(reply, err)
}
