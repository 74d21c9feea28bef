package zkrecovery

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/goleak"

	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/daemon/recovery/recoverytest"
	"github.com/alohasched/aloha/internal/zktest"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain()) // a master in a child process; see failover_test.go
	}
	code := zktest.Main(m)
	// Every goroutine of ours ends with Close: the elector's watchers
	// and cleaners, the client library's loops.
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintf(os.Stderr, "goroutines left behind: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

// testSession is the session timeout of the tests: long enough that a
// loaded CI machine running the race detector keeps its sessions, short
// enough that expiry tests take seconds. Both the servers zktest starts
// (0.5–5 s) and the one .ci/run starts (1–10 s) grant it.
const testSession = 2 * time.Second

// testLog collects a test's log and prints it only if the test fails.
// ZooKeeper's goroutines may log after the test ends, when t.Log would
// panic, so it goes to a buffer.
func testLog(t testing.TB) *slog.Logger {
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			t.Logf("log:\n%s", buf.String())
			mu.Unlock()
		}
	})
	return slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// newClient connects to the test server; the client is closed when the
// test ends.
func newClient(t testing.TB) *Client {
	t.Helper()
	return newClientDial(t, net.DialTimeout)
}

func newClientDial(t testing.TB, dial zk.Dialer) *Client {
	t.Helper()
	c, err := connect([]string{zktest.Server(t)}, testSession, testLog(t), dial)
	if err != nil {
		t.Fatalf("Connect = %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStoreConformance(t *testing.T) {
	zktest.Server(t)
	// The suite opens the store of one test again to see what the first
	// one committed: the same chroot, a new client.
	var mu sync.Mutex
	roots := map[*testing.T]string{}
	recoverytest.RunStoreTests(t, func(t *testing.T) recovery.Store {
		mu.Lock()
		root, ok := roots[t]
		if !ok {
			root = zktest.Chroot(t)
			roots[t] = root
		}
		mu.Unlock()
		s, err := newClient(t).Store(root)
		if err != nil {
			t.Fatalf("Store(%s) = %v", root, err)
		}
		return s
	})
}

func TestElectorConformance(t *testing.T) {
	zktest.Server(t)
	recoverytest.RunElectorTests(t, func(t *testing.T) func(string) recovery.Elector {
		root := zktest.Chroot(t)
		return func(url string) recovery.Elector {
			e, err := newClient(t).Elector(root, url) // one session per master
			if err != nil {
				t.Fatalf("Elector(%s) = %v", root, err)
			}
			return e
		}
	})
}

func TestConnectFailsWithoutServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := Connect([]string{addr}, 500*time.Millisecond, testLog(t))
	if err == nil {
		c.Close()
		t.Fatalf("Connect(%s) with no server succeeded", addr)
	}
}

func TestSplitServers(t *testing.T) {
	got := SplitServers(" zk1:2181, zk2:2181,,zk3:2181 ")
	want := []string{"zk1:2181", "zk2:2181", "zk3:2181"}
	if len(got) != len(want) {
		t.Fatalf("SplitServers = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("SplitServers = %q, want %q", got, want)
		}
	}
}
