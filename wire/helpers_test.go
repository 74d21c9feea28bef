package wire

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperServerEnv) != "" {
		runHelperServer()
		return
	}
	goleak.VerifyTestMain(m)
}

// Test message types.
type ping struct {
	N    int    `msgpack:"n"`
	Text string `msgpack:"text"`
}

type pong struct {
	N int `msgpack:"n"`
}

type unregistered struct {
	X int `msgpack:"x"`
}

func testRegistry() *Registry {
	r := NewRegistry()
	r.MustRegister(100, (*ping)(nil))
	r.MustRegister(101, (*pong)(nil))
	return r
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startNode starts a node serving on a kernel-chosen loopback port; it is
// closed when the test ends.
func startNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	if cfg.Registry == nil {
		cfg.Registry = testRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	n, err := NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = n.Serve(ctx, ln)
	}()
	waitListening(t, n)
	t.Cleanup(func() {
		cancel()
		n.Close()
		<-served
	})
	return n
}

func waitListening(t testing.TB, n *Node) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for n.Addr() == "" {
		if time.Now().After(deadline) {
			t.Fatal("node did not start serving")
		}
		time.Sleep(time.Millisecond)
	}
}

// newClient returns a node that does not listen.
func newClient(t testing.TB, cfg Config) *Node {
	t.Helper()
	if cfg.Registry == nil {
		cfg.Registry = testRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	n, err := NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func echoHandler() Handler {
	return HandlerFunc(func(m *Message) (any, error) {
		p := m.Body.(*ping)
		return &pong{N: p.N}, nil
	})
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// openConns returns the node's open connections.
func openConns(n *Node) []*conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*conn
	for c := range n.all {
		out = append(out, c)
	}
	return out
}
