package wire

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Message is one received Send or Ask.
type Message struct {
	// From is the sender: its node's listen address (or anonymous key) and
	// its endpoint name ("" for a node-level Send or Ask).
	From Address
	// Body is a pointer to the decoded message, of a type in the Registry.
	Body any

	ask      bool
	id       uint64
	conn     *conn          // nil for a message from this node
	local    chan askResult // the asker's channel, for a local Ask
	deferred bool
	answered atomic.Bool
	node     *Node
}

// IsAsk says whether the sender waits for an answer.
func (m *Message) IsAsk() bool { return m.ask }

// Defer takes over answering: the handler's return values are ignored and
// the answer is whatever is later passed to the returned function, from any
// goroutine. Only the first call of that function counts.
func (m *Message) Defer() func(reply any, err error) {
	m.deferred = true
	return m.respond
}

func (m *Message) respond(reply any, err error) {
	if !m.ask || m.answered.Swap(true) {
		return
	}
	if m.local != nil {
		if err != nil {
			m.local <- askResult{err: toRemoteError(err)}
		} else {
			m.local <- askResult{body: asPointer(reply)}
		}
		return
	}
	c := m.conn
	defer c.inboundAsks.Add(-1)
	env := &envelope{kind: kindReply, id: m.id, body: reply}
	if err != nil {
		env = &envelope{kind: kindError, id: m.id, body: toRemoteError(err)}
	}
	f, encErr := m.node.reg.encodeEnvelope(env, m.node.cfg.MaxFrameSize)
	if encErr != nil {
		m.node.log.Error("cannot encode reply", "peer", c.key, "error", encErr.Error())
		env = &envelope{kind: kindError, id: m.id, body: &RemoteError{Code: CodeInternal, Message: "encode reply: " + encErr.Error()}}
		if f, encErr = m.node.reg.encodeEnvelope(env, m.node.cfg.MaxFrameSize); encErr != nil {
			return
		}
	}
	_ = c.enqueue(f) // a closed connection has already failed the asker
}

// dispatch hands a received send or ask to its endpoint. It runs on the
// connection's reader goroutine and never blocks.
func (n *Node) dispatch(c *conn, env *envelope) {
	m := &Message{
		From: Address{Host: c.key, Name: env.from},
		Body: env.body,
		ask:  env.kind == kindAsk,
		id:   env.id,
		conn: c,
		node: n,
	}
	if m.ask {
		c.inboundAsks.Add(1)
	}
	if env.bodyErr != nil {
		n.refuse(m, env.bodyErr)
		return
	}
	n.mu.Lock()
	ep := n.endpoints[env.to]
	n.mu.Unlock()
	if ep == nil {
		n.refuse(m, &RemoteError{Code: CodeNoEndpoint, Message: fmt.Sprintf("no endpoint named %q at %s", env.to, n.Addr())})
		return
	}
	if !ep.deliver(mail{msg: m}) {
		n.refuse(m, &RemoteError{Code: CodeOverloaded, Message: fmt.Sprintf("endpoint %q is overloaded (%d messages queued)", env.to, n.cfg.MailboxSize)})
	}
}

// refuse answers an ask with err, or logs and drops a send.
func (n *Node) refuse(m *Message, err *RemoteError) {
	if m.ask {
		m.respond(nil, err)
		return
	}
	n.log.Warn("message dropped", "from", m.From.String(), "reason", err.Message)
}

// Send delivers body to the endpoint at to without waiting for it to be
// handled. ctx bounds connecting to the peer, if that is needed.
func (n *Node) Send(ctx context.Context, to Address, body any) error {
	return n.send(ctx, "", to, body)
}

// Ask sends body to the endpoint at to and waits for the answer until ctx
// is done.
func (n *Node) Ask(ctx context.Context, to Address, body any) (any, error) {
	return n.ask(ctx, "", to, body)
}

func (n *Node) isLocal(to Address) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr != "" && to.Host == n.addr
}

func (n *Node) send(ctx context.Context, from string, to Address, body any) error {
	if n.isLocal(to) {
		return n.deliverLocal(from, to, body, nil)
	}
	c, err := n.connTo(ctx, to.Host)
	if err != nil {
		return err
	}
	f, err := n.reg.encodeEnvelope(&envelope{kind: kindSend, to: to.Name, from: from, body: body}, n.cfg.MaxFrameSize)
	if err != nil {
		return err
	}
	return c.enqueue(f)
}

func (n *Node) ask(ctx context.Context, from string, to Address, body any) (any, error) {
	if n.isLocal(to) {
		ch := make(chan askResult, 1)
		if err := n.deliverLocal(from, to, body, ch); err != nil {
			return nil, err
		}
		return awaitReply(ctx, ch, nil)
	}
	c, err := n.connTo(ctx, to.Host)
	if err != nil {
		return nil, err
	}
	id, ch, err := c.startAsk()
	if err != nil {
		return nil, err
	}
	f, err := n.reg.encodeEnvelope(&envelope{kind: kindAsk, id: id, to: to.Name, from: from, body: body}, n.cfg.MaxFrameSize)
	if err != nil {
		c.abandonAsk(id)
		return nil, err
	}
	if err := c.enqueue(f); err != nil {
		c.abandonAsk(id)
		return nil, err
	}
	return awaitReply(ctx, ch, func() { c.abandonAsk(id) })
}

func awaitReply(ctx context.Context, ch chan askResult, abandon func()) (any, error) {
	select {
	case r := <-ch:
		return r.body, r.err
	case <-ctx.Done():
		if abandon != nil {
			abandon()
		}
		return nil, ctxErr(ctx)
	}
}

// deliverLocal hands a message to an endpoint of this node without
// encoding it: the body is shared, so senders must not change it after.
func (n *Node) deliverLocal(from string, to Address, body any, reply chan askResult) error {
	if _, err := n.reg.codeOf(body); err != nil {
		return err
	}
	n.mu.Lock()
	ep := n.endpoints[to.Name]
	addr := n.addr
	n.mu.Unlock()
	m := &Message{From: Address{Host: addr, Name: from}, Body: asPointer(body), ask: reply != nil, local: reply, node: n}
	if ep == nil {
		return &RemoteError{Code: CodeNoEndpoint, Message: fmt.Sprintf("no endpoint named %q at %s", to.Name, addr)}
	}
	if !ep.deliver(mail{msg: m}) {
		return &RemoteError{Code: CodeOverloaded, Message: fmt.Sprintf("endpoint %q is overloaded", to.Name)}
	}
	return nil
}
