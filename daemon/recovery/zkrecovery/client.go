package zkrecovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/alohasched/aloha/daemon/recovery"
)

// Defaults of aloha.deploy.zookeeper.dir and .sessionTimeout.
const (
	DefaultDir            = "/aloha"
	DefaultSessionTimeout = 10 * time.Second
)

// ErrNotLeader is returned by Commit on a Client whose elector holds no
// term, or whose term ended before the write reached ZooKeeper.
var ErrNotLeader = errors.New("zkrecovery: not the leader")

// Client is one ZooKeeper session, shared by the store and the elector of
// a master.
type Client struct {
	conn    *zk.Conn
	log     *slog.Logger
	servers []string
	// lossGen counts session losses (disconnections and expiries); the
	// elector grants a term only if none happened while it looked.
	lossGen atomic.Uint64
	ready   chan struct{} // capacity 1: "a session was established"

	mu      sync.Mutex
	closed  bool
	up      bool     // holds a session; for logging transitions once
	elector *Elector // nil until Elector
	fence   string   // election node of the term held; "" when none
}

// SplitServers turns aloha.deploy.zookeeper.url ("h1:2181,h2:2181") into
// the server list Connect takes.
func SplitServers(url string) []string {
	var out []string
	for _, s := range strings.Split(url, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Connect opens a session with the ensemble and waits for it, up to the
// session timeout, so that a wrong address fails at start-up rather than
// leaving the master a standby forever. The ZooKeeper client's own log
// goes to log at debug level.
func Connect(servers []string, sessionTimeout time.Duration, log *slog.Logger) (*Client, error) {
	return connect(servers, sessionTimeout, log, net.DialTimeout)
}

// connect is Connect with the dialer tests use to watch the session.
func connect(servers []string, sessionTimeout time.Duration, log *slog.Logger, dial zk.Dialer) (*Client, error) {
	if len(servers) == 0 {
		return nil, errors.New("zkrecovery: no ZooKeeper server given (aloha.deploy.zookeeper.url)")
	}
	if sessionTimeout <= 0 {
		return nil, fmt.Errorf("zkrecovery: session timeout %s must be positive", sessionTimeout)
	}
	if log == nil {
		log = slog.Default()
	}
	c := &Client{log: log.With("zookeeper", strings.Join(servers, ",")), servers: servers, ready: make(chan struct{}, 1)}
	conn, _, err := zk.Connect(servers, sessionTimeout,
		zk.WithLogger(zkLogger{c.log}), zk.WithEventCallback(c.onEvent), zk.WithDialer(dial))
	if err != nil {
		return nil, fmt.Errorf("zkrecovery: %w", err)
	}
	c.conn = conn
	select {
	case <-c.ready:
		return c, nil
	case <-time.After(sessionTimeout):
		conn.Close()
		return nil, fmt.Errorf("zkrecovery: no session with ZooKeeper %s within %s", strings.Join(servers, ","), sessionTimeout)
	}
}

// onEvent runs on the ZooKeeper client's goroutines for every event; it
// must not block. Session losses reach the elector here, before any
// request or watch of ours can see them.
func (c *Client) onEvent(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	switch ev.State {
	case zk.StateDisconnected, zk.StateExpired:
		c.lossGen.Add(1)
		c.mu.Lock()
		e, was, closed := c.elector, c.up, c.closed
		c.up = false
		c.mu.Unlock()
		if e != nil {
			e.sessionLost(ev.State)
		}
		switch {
		case closed:
		case ev.State == zk.StateExpired:
			c.log.Warn("ZooKeeper session expired; a new one is being opened")
		case was:
			c.log.Warn("ZooKeeper connection lost; reconnecting", "server", ev.Server)
		}
	case zk.StateHasSession:
		c.mu.Lock()
		e := c.elector
		c.up = true
		c.mu.Unlock()
		c.log.Debug("ZooKeeper session established", "server", ev.Server)
		select {
		case c.ready <- struct{}{}:
		default:
		}
		if e != nil {
			e.sessionBack()
		}
	}
}

// Close closes the client's elector, which resigns any term, and ends the
// session. The store stops working too.
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	e := c.elector
	c.mu.Unlock()
	if e != nil {
		e.Close()
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.conn.Close()
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// setElector registers the client's only elector.
func (c *Client) setElector(e *Elector) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return recovery.ErrClosed
	case c.elector != nil:
		return errors.New("zkrecovery: the client already has an elector (one per master)")
	}
	c.elector = e
	return nil
}

// setFence and clearFence track the election node of the term held.
func (c *Client) setFence(node string) {
	c.mu.Lock()
	c.fence = node
	c.mu.Unlock()
}

func (c *Client) clearFence(node string) {
	c.mu.Lock()
	if c.fence == node {
		c.fence = ""
	}
	c.mu.Unlock()
}

// fenceNode is the node a commit must find to proceed: "" for a client
// without an elector (unfenced), ErrNotLeader for one without a term.
func (c *Client) fenceNode() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return "", recovery.ErrClosed
	case c.elector == nil:
		return "", nil
	case c.fence == "":
		return "", fmt.Errorf("%w: this master holds no term", ErrNotLeader)
	}
	return c.fence, nil
}

func (c *Client) currentFence() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fence
}

// ensurePath creates p and its parents as persistent nodes; existing
// ones are fine, so masters may race to create them.
func (c *Client) ensurePath(p string) error {
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		_, err := c.conn.Create(p[:i], nil, 0, zk.WorldACL(zk.PermAll))
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("zkrecovery: creating %s: %w", p[:i], err)
		}
	}
	return nil
}

// cleanDir validates aloha.deploy.zookeeper.dir: absolute, no trailing
// slash ("/" itself becomes "").
func cleanDir(dir string) (string, error) {
	if !strings.HasPrefix(dir, "/") || strings.Contains(dir, "//") {
		return "", fmt.Errorf("zkrecovery: directory %q must be an absolute ZooKeeper path", dir)
	}
	return strings.TrimSuffix(dir, "/"), nil
}

// call runs f, but returns when ctx ends even if f has not: the client
// library's requests take no context. f then finishes on its own, bounded
// by the session timeout, and its result is dropped.
func call[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // f never blocks on a caller that left
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// zkLogger sends the ZooKeeper client's log to slog at debug level: it
// reports every connection attempt, which is noise at any other level.
type zkLogger struct{ log *slog.Logger }

func (l zkLogger) Printf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug("zk: " + fmt.Sprintf(format, args...))
	}
}
