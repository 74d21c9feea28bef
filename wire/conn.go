package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one established connection. It has exactly two goroutines: a
// reader that decodes frames and hands them on, and a writer that drains the
// outbound queue, writing every queued frame with one system call.
type conn struct {
	node   *Node
	nc     net.Conn
	br     *bufio.Reader
	key    string // the peer's listen address, or an "anon:" key
	remote string // the socket's remote address, for logs

	wmu         sync.Mutex
	queue       []*outFrame
	queuedBytes int
	wsignal     chan struct{} // capacity 1: "the queue is not empty"

	pmu     sync.Mutex
	pending map[uint64]chan askResult
	nextID  atomic.Uint64
	// inboundAsks counts the peer's asks not yet answered; an idle
	// connection with any is not idle.
	inboundAsks atomic.Int64

	lastActive atomic.Int64 // unix nanoseconds of the last frame either way

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error // set before closed is closed
}

type askResult struct {
	body any
	err  error
}

// errIdle and errLocalClose are close reasons that are not worth a warning.
var (
	errIdle       = errors.New("idle")
	errLocalClose = errors.New("closed by this node")
)

func newConn(n *Node, nc net.Conn, br *bufio.Reader, key string) *conn {
	c := &conn{
		node:    n,
		nc:      nc,
		br:      br,
		key:     key,
		remote:  nc.RemoteAddr().String(),
		wsignal: make(chan struct{}, 1),
		pending: map[uint64]chan askResult{},
		closed:  make(chan struct{}),
	}
	c.touch()
	return c
}

func (c *conn) touch() { c.lastActive.Store(time.Now().UnixNano()) }

func (c *conn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// enqueue hands a frame to the writer. It never blocks: a peer that lets
// more than MaxPendingBytes pile up is too slow and is disconnected.
func (c *conn) enqueue(f *outFrame) error {
	c.wmu.Lock()
	if c.isClosed() {
		c.wmu.Unlock()
		f.release()
		return &ConnClosedError{Peer: c.key, Reason: c.closeErr}
	}
	if c.queuedBytes+f.buf.Len() > c.node.cfg.MaxPendingBytes {
		queued := c.queuedBytes
		c.wmu.Unlock()
		f.release()
		err := fmt.Errorf("%w: %d bytes waiting to be written", errSlowPeer, queued)
		c.close(err)
		return &ConnClosedError{Peer: c.key, Reason: err}
	}
	c.queue = append(c.queue, f)
	c.queuedBytes += f.buf.Len()
	c.wmu.Unlock()
	select {
	case c.wsignal <- struct{}{}:
	default:
	}
	return nil
}

func (c *conn) writeLoop() {
	defer c.node.wg.Done()
	var idle <-chan time.Time
	if t := c.node.cfg.IdleTimeout; t > 0 {
		ticker := time.NewTicker(max(t/4, 10*time.Millisecond))
		defer ticker.Stop()
		idle = ticker.C
	}
	var batch []*outFrame
	var bufs net.Buffers
	for {
		select {
		case <-c.closed:
			c.drainQueue()
			return
		case <-idle:
			if c.isIdle() {
				c.close(errIdle)
			}
			continue
		case <-c.wsignal:
		}
		c.wmu.Lock()
		batch, c.queue = c.queue, batch[:0]
		c.queuedBytes = 0
		c.wmu.Unlock()
		bufs = bufs[:0]
		for _, f := range batch {
			bufs = append(bufs, f.buf.Bytes())
		}
		_, err := bufs.WriteTo(c.nc)
		for i, f := range batch {
			f.release()
			batch[i] = nil
		}
		if err != nil {
			c.close(fmt.Errorf("write: %w", err))
			continue
		}
		c.node.stats.framesWritten.Add(uint64(len(batch)))
		c.touch()
	}
}

func (c *conn) drainQueue() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for _, f := range c.queue {
		f.release()
	}
	c.queue = nil
}

func (c *conn) isIdle() bool {
	if time.Since(time.Unix(0, c.lastActive.Load())) < c.node.cfg.IdleTimeout {
		return false
	}
	if c.inboundAsks.Load() > 0 {
		return false
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	return len(c.pending) == 0
}

func (c *conn) readLoop() {
	defer c.node.wg.Done()
	maxSize := c.node.cfg.MaxFrameSize
	for {
		body, err := readFrame(c.br, maxSize)
		if err != nil {
			c.close(fmt.Errorf("read: %w", err))
			return
		}
		c.touch()
		c.node.stats.framesRead.Add(1)
		env, err := c.node.reg.decodeEnvelope(body)
		if err != nil {
			c.close(err)
			return
		}
		switch env.kind {
		case kindReply, kindError:
			c.complete(env)
		default:
			c.node.dispatch(c, env)
		}
	}
}

// complete delivers a reply to the Ask waiting for it. A reply nobody waits
// for (its Ask timed out) is dropped.
func (c *conn) complete(env *envelope) {
	c.pmu.Lock()
	ch, ok := c.pending[env.id]
	delete(c.pending, env.id)
	c.pmu.Unlock()
	if !ok {
		return
	}
	switch {
	case env.kind == kindError:
		ch <- askResult{err: env.body.(*RemoteError)}
	case env.bodyErr != nil:
		ch <- askResult{err: env.bodyErr}
	default:
		ch <- askResult{body: env.body}
	}
}

// startAsk registers a pending ask and returns its id and reply channel.
func (c *conn) startAsk() (uint64, chan askResult, error) {
	id := c.nextID.Add(1)
	ch := make(chan askResult, 1)
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.isClosed() {
		return 0, nil, &ConnClosedError{Peer: c.key, Reason: c.closeErr}
	}
	c.pending[id] = ch
	return id, ch, nil
}

func (c *conn) abandonAsk(id uint64) {
	c.pmu.Lock()
	delete(c.pending, id)
	c.pmu.Unlock()
}

// close shuts the connection once, fails every pending Ask at once and
// logs the reason.
func (c *conn) close(reason error) {
	c.closeOnce.Do(func() {
		c.wmu.Lock()
		c.pmu.Lock()
		c.closeErr = reason
		close(c.closed)
		pending := c.pending
		c.pending = map[uint64]chan askResult{}
		c.pmu.Unlock()
		c.wmu.Unlock()
		_ = c.nc.Close()
		for _, ch := range pending {
			ch <- askResult{err: &ConnClosedError{Peer: c.key, Reason: reason}}
		}
		c.node.stats.countClose(reason)
		c.logClose(reason)
		c.node.forget(c)
	})
}

func (c *conn) logClose(reason error) {
	level := slog.LevelDebug
	switch {
	case errors.Is(reason, ErrMalformedFrame), errors.Is(reason, ErrFrameTooLarge):
		level = slog.LevelWarn
	case errors.Is(reason, errIdle), errors.Is(reason, errLocalClose), errors.Is(reason, io.EOF), errors.Is(reason, net.ErrClosed):
	default:
		level = slog.LevelInfo
	}
	c.node.log.Log(context.Background(), level, "connection closed", "peer", c.key, "remote", c.remote, "reason", reason.Error())
}
