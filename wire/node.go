package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// anonPrefix starts the key of a connection from a peer that does not
// listen; such a peer can be answered while it stays connected but never
// dialed.
const anonPrefix = "anon:"

// readBufferSize is the per-connection read buffer: large enough that a
// burst of small frames costs one read system call.
const readBufferSize = 16 << 10

// Node is one process's presence on the network: its listeners, its
// connections to peers and its endpoints. Every goroutine it starts ends in
// Close.
type Node struct {
	cfg Config
	reg *Registry
	log *slog.Logger

	mu        sync.Mutex
	addr      string
	conns     map[string]*conn   // the connection in service per peer
	all       map[*conn]struct{} // every open connection, replaced ones too
	dialing   map[string]*dialCall
	endpoints map[string]*Endpoint
	listeners map[net.Listener]struct{}
	accepted  map[net.Conn]struct{} // connections still in their handshake
	closed    bool

	anonSeq atomic.Uint64
	stats   counters
	wg      sync.WaitGroup
}

type dialCall struct {
	done chan struct{}
	c    *conn
	err  error
}

// NewNode returns a node; it starts no goroutine until Serve, Register or a
// first Send or Ask.
func NewNode(cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Node{
		cfg:       cfg,
		reg:       cfg.Registry,
		log:       cfg.Logger,
		addr:      cfg.AdvertiseAddr,
		conns:     map[string]*conn{},
		all:       map[*conn]struct{}{},
		dialing:   map[string]*dialCall{},
		endpoints: map[string]*Endpoint{},
		listeners: map[net.Listener]struct{}{},
		accepted:  map[net.Conn]struct{}{},
	}, nil
}

// Addr is the listen address this node advertises ("" until it serves).
func (n *Node) Addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// Serve accepts connections on ln until ctx is done or the node closes. It
// returns nil then, or the listener's error.
func (n *Node) Serve(ctx context.Context, ln net.Listener) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		_ = ln.Close()
		return ErrClosed
	}
	if n.addr == "" {
		n.addr = ln.Addr().String()
	}
	n.listeners[ln] = struct{}{}
	n.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	defer func() {
		n.mu.Lock()
		delete(n.listeners, ln)
		n.mu.Unlock()
		_ = ln.Close()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || n.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors and the like: back off, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			n.log.Warn("accept failed; retrying", "listener", ln.Addr().String(), "error", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		backoff = 0
		if !n.trackAccepted(nc, true) {
			_ = nc.Close()
			return nil
		}
		n.wg.Add(1)
		go n.accept(nc)
	}
}

func (n *Node) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

func (n *Node) trackAccepted(nc net.Conn, add bool) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if add {
		if n.closed {
			return false
		}
		n.accepted[nc] = struct{}{}
	} else {
		delete(n.accepted, nc)
	}
	return true
}

// accept runs the acceptor's handshake; nothing is dispatched before it
// succeeds.
func (n *Node) accept(nc net.Conn) {
	defer n.wg.Done()
	defer n.trackAccepted(nc, false)
	br := bufio.NewReaderSize(nc, readBufferSize)
	_ = nc.SetDeadline(time.Now().Add(n.cfg.HandshakeTimeout))
	var c *conn
	admit := func(peerAddr string) {
		key := peerAddr
		if key == "" {
			key = fmt.Sprintf("%s%s#%d", anonPrefix, nc.RemoteAddr(), n.anonSeq.Add(1))
		}
		c = newConn(n, nc, br, key)
		if !n.adopt(c, false) {
			c = nil
		}
	}
	_, err := acceptHandshake(nc, br, n.Addr(), n.cfg.Secret, admit)
	if err != nil {
		n.stats.handshakeFailures.Add(1)
		n.log.Warn("handshake failed", "remote", nc.RemoteAddr().String(), "reason", err.Error())
		if c != nil {
			c.close(err)
		}
		_ = nc.Close()
		return
	}
	if c == nil { // the node closed meanwhile
		_ = nc.Close()
		return
	}
	_ = nc.SetDeadline(time.Time{})
	n.start(c)
}

// adopt puts an established connection in service. A newer connection to
// the same peer replaces the older one for new traffic; the older one keeps
// serving what is in flight on it until it idles out.
func (n *Node) adopt(c *conn, start bool) bool {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return false
	}
	_, replaced := n.conns[c.key]
	n.conns[c.key] = c
	n.all[c] = struct{}{}
	observers := n.observersLocked()
	if start {
		n.startLocked(c)
	}
	n.mu.Unlock()
	if !replaced {
		for _, ep := range observers {
			ep.notify(peerEvent{peer: c.key, connected: true})
		}
	}
	return true
}

// start runs a connection's reader and writer, unless the node closed.
func (n *Node) start(c *conn) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		c.close(errLocalClose)
		return
	}
	n.startLocked(c)
	n.mu.Unlock()
}

func (n *Node) startLocked(c *conn) {
	n.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
}

// forget removes a closed connection and tells observers the peer left.
func (n *Node) forget(c *conn) {
	n.mu.Lock()
	delete(n.all, c)
	current := n.conns[c.key] == c
	if current {
		delete(n.conns, c.key)
	}
	observers := n.observersLocked()
	n.mu.Unlock()
	if current {
		for _, ep := range observers {
			ep.notify(peerEvent{peer: c.key, connected: false})
		}
	}
}

func (n *Node) observersLocked() []*Endpoint {
	var out []*Endpoint
	for _, ep := range n.endpoints {
		if ep.observer != nil {
			out = append(out, ep)
		}
	}
	return out
}

// connTo returns the connection to the peer listening at addr, dialing it
// if there is none. Concurrent callers share one dial.
func (n *Node) connTo(ctx context.Context, addr string) (*conn, error) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, ErrClosed
	}
	if c := n.conns[addr]; c != nil && !c.isClosed() {
		n.mu.Unlock()
		return c, nil
	}
	if strings.HasPrefix(addr, anonPrefix) {
		n.mu.Unlock()
		return nil, fmt.Errorf("%w: %s (it does not listen and has disconnected)", ErrNotDialable, addr)
	}
	call := n.dialing[addr]
	if call == nil {
		call = &dialCall{done: make(chan struct{})}
		n.dialing[addr] = call
		n.mu.Unlock()
		call.c, call.err = n.dial(ctx, addr)
		n.mu.Lock()
		delete(n.dialing, addr)
		n.mu.Unlock()
		close(call.done)
		return call.c, call.err
	}
	n.mu.Unlock()
	select {
	case <-call.done:
		return call.c, call.err
	case <-ctx.Done():
		return nil, ctxErr(ctx)
	}
}

func (n *Node) dial(ctx context.Context, addr string) (*conn, error) {
	if err := checkHostPort(addr); err != nil {
		return nil, fmt.Errorf("wire: dial %q: %w", addr, err)
	}
	hctx, cancel := context.WithTimeout(ctx, n.cfg.HandshakeTimeout)
	defer cancel()
	nc, err := n.cfg.Dial(hctx, addr)
	if err != nil {
		n.stats.dialFailures.Add(1)
		return nil, fmt.Errorf("wire: dial %s: %w", addr, err)
	}
	deadline, _ := hctx.Deadline()
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(hctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	br := bufio.NewReaderSize(nc, readBufferSize)
	_, err = dialHandshake(nc, br, n.Addr(), n.cfg.Secret)
	stop()
	if err != nil {
		_ = nc.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("wire: dial %s: %w", addr, ctxErr(ctx))
		}
		n.stats.handshakeFailures.Add(1)
		return nil, fmt.Errorf("wire: dial %s: %w", addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	// Key the connection by the address we dialed: that is the name callers
	// use for the peer, whatever it calls itself.
	c := newConn(n, nc, br, addr)
	if !n.adopt(c, true) {
		_ = nc.Close()
		return nil, ErrClosed
	}
	return c, nil
}

func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrTimeout
	}
	return ctx.Err()
}

// Close closes every listener, connection and endpoint and waits for every
// goroutine of the node to end. Pending asks fail with ErrPeerGone.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	var lns []net.Listener
	for ln := range n.listeners {
		lns = append(lns, ln)
	}
	var conns []*conn
	for c := range n.all {
		conns = append(conns, c)
	}
	for nc := range n.accepted {
		_ = nc.Close()
	}
	var eps []*Endpoint
	for _, ep := range n.endpoints {
		eps = append(eps, ep)
	}
	n.mu.Unlock()
	for _, ln := range lns {
		_ = ln.Close()
	}
	for _, c := range conns {
		c.close(errLocalClose)
	}
	for _, ep := range eps {
		ep.stop()
	}
	n.wg.Wait()
	return nil
}
