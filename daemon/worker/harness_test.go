package worker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/app"
	"github.com/alohasched/aloha/internal/testutil"
	"github.com/alohasched/aloha/wire"
)

// The harness runs a real worker against a master played by the test: a
// wire node with a Master endpoint that accepts registrations, records
// reports and sends orders.

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func serveNode(t *testing.T) *wire.Node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	node, err := wire.NewNode(wire.Config{Registry: api.NewRegistry(), Logger: quiet(), AdvertiseAddr: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		node.Serve(ctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		node.Close()
		<-done
	})
	return node
}

type fakeMaster struct {
	t     *testing.T
	node  *wire.Node
	epoch uint64

	mu      sync.Mutex
	regs    []*api.RegisterWorker
	reports []*api.AppStateChanged
	states  []*api.WorkerSchedulerState
	hbs     int
	worker  wire.Address
	changed chan struct{}
	refuse  string
	refused int
	session uint64 // the worker's session, from its last registration
}

func newFakeMaster(t *testing.T) *fakeMaster {
	fm := &fakeMaster{t: t, node: serveNode(t), epoch: 5, changed: make(chan struct{}, 1)}
	_, err := fm.node.Register(api.MasterEndpoint, wire.HandlerFunc(func(m *wire.Message) (any, error) {
		fm.mu.Lock()
		defer fm.mu.Unlock()
		defer fm.notify()
		switch b := m.Body.(type) {
		case *api.RegisterWorker:
			if fm.refuse != "" {
				fm.refused++
				return nil, &wire.RemoteError{Code: api.CodeRefused, Message: fm.refuse}
			}
			fm.regs = append(fm.regs, b)
			fm.session = b.Session
			fm.worker = wire.Address{Host: m.From.Host, Name: api.WorkerEndpoint}
			return &api.WorkerRegistered{MasterURL: fm.url(), Epoch: fm.epoch, HeartbeatInterval: 50 * time.Millisecond}, nil
		case *api.AppStateChanged:
			fm.reports = append(fm.reports, b)
		case *api.WorkerSchedulerState:
			fm.states = append(fm.states, b)
			fm.session = b.Session
		case *api.Heartbeat:
			fm.hbs++
		}
		return nil, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return fm
}

func (fm *fakeMaster) notify() {
	select {
	case fm.changed <- struct{}{}:
	default:
	}
}

func (fm *fakeMaster) url() string { return wire.Scheme + fm.node.Addr() }
func (fm *fakeMaster) addr() wire.Address {
	return wire.Address{Host: fm.node.Addr(), Name: api.MasterEndpoint}
}
func (fm *fakeMaster) workerAddr() wire.Address {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	return fm.worker
}

// order sends an order to the worker and returns its answer. Orders
// that name no session get the worker's current one.
func (fm *fakeMaster) order(body any) error {
	fm.t.Helper()
	fm.mu.Lock()
	switch o := body.(type) {
	case *api.LaunchApp:
		if o.Session == 0 {
			o.Session = fm.session
		}
	case *api.KillApp:
		if o.Session == 0 {
			o.Session = fm.session
		}
	}
	fm.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := fm.node.Ask(ctx, fm.workerAddr(), body)
	return err
}

func (fm *fakeMaster) launch(id string, run int, spec api.AppSpec) {
	fm.t.Helper()
	if err := fm.order(&api.LaunchApp{Epoch: fm.epoch, AppID: id, Run: run, Spec: spec.WithDefaults()}); err != nil {
		fm.t.Fatalf("launch %s: %v", id, err)
	}
}

// waitReport waits for the worker to report state for app.
func (fm *fakeMaster) waitReport(id string, state api.AppState) *api.AppStateChanged {
	fm.t.Helper()
	var found *api.AppStateChanged
	testutil.WaitFor(fm.t, 20*time.Second, func() error {
		fm.mu.Lock()
		defer fm.mu.Unlock()
		for _, r := range fm.reports {
			if r.AppID == id && r.State == state {
				found = r
				return nil
			}
		}
		var seen []string
		for _, r := range fm.reports {
			seen = append(seen, r.AppID+":"+string(r.State))
		}
		return fmt.Errorf("no %s report for %s; reports: %v", state, id, seen)
	})
	return found
}

func (fm *fakeMaster) registrations() []*api.RegisterWorker {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	return append([]*api.RegisterWorker(nil), fm.regs...)
}

// logBuffer collects log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testWorker struct {
	*Worker
	dir  string
	logs *logBuffer
	stop func()
}

// startWorker runs a worker with its own node against fm. It stops when
// the test ends (or earlier with stop).
func startWorker(t *testing.T, fm *fakeMaster, dir string, tweak func(*Options)) *testWorker {
	t.Helper()
	logs := &logBuffer{}
	opts := Options{
		Node: serveNode(t), Masters: []wire.Address{fm.addr()}, Log: slog.New(slog.NewTextHandler(logs, nil)),
		Cores: 4, Memory: 4096, WorkDir: dir, Kinds: app.NewRegistry(), KillTimeout: 500 * time.Millisecond,
		AskTimeout: 5 * time.Second,
	}
	if tweak != nil {
		tweak(&opts)
	}
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("worker Run = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	tw := &testWorker{Worker: w, dir: dir, logs: logs, stop: stop}
	testutil.WaitFor(t, 10*time.Second, func() error {
		if !strings.Contains(logs.String(), "Successfully registered with master "+fm.url()) {
			return fmt.Errorf("not registered; log:\n%s", logs.String())
		}
		return nil
	})
	return tw
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func appDir(tw *testWorker, id string) string { return filepath.Join(tw.dir, id) }

func shellSpec(script string) api.AppSpec {
	return api.AppSpec{Name: "test", EntryPoint: "shell", Args: script, Cores: 1, Memory: 64}
}

var idSeq = 0

// newID returns a fresh, valid application id.
func newID() string {
	idSeq++
	return fmt.Sprintf("app-20260101000000-%04d", idSeq)
}
