package master

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/internal/testutil"
	"github.com/alohasched/aloha/wire"
)

// The harness runs a real master on a loopback port and plays workers and
// clients with wire nodes of its own, so every rule is checked through
// the protocol the real peers use.

type testMaster struct {
	*Master
	addr   string
	client *wire.Node
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func serve(t *testing.T) (*wire.Node, net.Listener) { return serveAt(t, "127.0.0.1:0") }

func serveAt(t *testing.T, addr string) (*wire.Node, net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
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
	return node, ln
}

func startMaster(t *testing.T, tweak func(*Options)) *testMaster {
	t.Helper()
	node, ln := serve(t)
	opts := Options{
		Node: node, URL: "aloha://" + ln.Addr().String(), Log: quiet(),
		WorkerTimeout: 10 * time.Second, DeadWorkerPersistence: 15, SpreadOut: true, RetainedApps: 200,
		Kinds: []string{"shell"},
	}
	if tweak != nil {
		tweak(&opts)
	}
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-m.Ready():
	case err := <-done:
		t.Fatalf("master Run = %v", err)
	}
	tm := &testMaster{Master: m, addr: ln.Addr().String()}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("master Run = %v", err)
		}
	})
	client, err := wire.NewNode(wire.Config{Registry: api.NewRegistry(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	tm.client = client
	if _, single := m.opts.Elector.(*recovery.Single); single {
		tm.waitMasterState(t, api.MasterAlive)
	}
	return tm
}

func (tm *testMaster) to() wire.Address { return wire.Address{Host: tm.addr, Name: api.MasterEndpoint} }

func (tm *testMaster) ask(t *testing.T, body any) (any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return tm.client.Ask(ctx, tm.to(), body)
}

func (tm *testMaster) submit(t *testing.T, spec api.AppSpec) string {
	t.Helper()
	v, err := tm.ask(t, &api.SubmitApp{Spec: spec})
	if err != nil {
		t.Fatalf("submit %+v: %v", spec, err)
	}
	return v.(*api.SubmitAppResponse).AppID
}

func (tm *testMaster) status(t *testing.T, id string) *api.AppInfo {
	t.Helper()
	v, err := tm.ask(t, &api.AppStatusRequest{AppID: id})
	if err != nil {
		t.Fatalf("status %s: %v", id, err)
	}
	return v.(*api.AppInfo)
}

func (tm *testMaster) waitState(t *testing.T, id string, want api.AppState) *api.AppInfo {
	t.Helper()
	var info *api.AppInfo
	testutil.WaitFor(t, 10*time.Second, func() error {
		info = tm.status(t, id)
		if info.State != want {
			return fmt.Errorf("%s is %s (%s), want %s", id, info.State, info.Message, want)
		}
		return nil
	})
	return info
}

func (tm *testMaster) workers(t *testing.T) map[string]api.WorkerInfo {
	t.Helper()
	v, err := tm.ask(t, &api.ListWorkersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]api.WorkerInfo{}
	for _, w := range v.(*api.WorkerList).Workers {
		out[w.ID] = w
	}
	return out
}

// fakeWorker is a worker played by the test: it records the orders it
// receives and reports what the test tells it to.
type fakeWorker struct {
	t      *testing.T
	id     string
	node   *wire.Node
	ep     *wire.Endpoint
	master wire.Address
	cores  int
	memory int
	kinds  []string

	mu     sync.Mutex
	orders []any
	signal chan struct{}
	// refuse, when set, answers orders with an error, as a worker that
	// refuses them does.
	refuse func(order any) error
}

func newFakeWorker(t *testing.T, tm *testMaster, cores, memory int) *fakeWorker {
	return newFakeWorkerAt(t, tm, "127.0.0.1:0", cores, memory)
}

func newFakeWorkerAt(t *testing.T, tm *testMaster, addr string, cores, memory int) *fakeWorker {
	t.Helper()
	node, ln := serveAt(t, addr)
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(p)
	fw := &fakeWorker{t: t, id: api.WorkerID(time.Now(), "127.0.0.1", port), node: node, master: tm.to(),
		cores: cores, memory: memory, kinds: []string{"shell"}, signal: make(chan struct{}, 1)}
	ep, err := node.Register(api.WorkerEndpoint, wire.HandlerFunc(func(m *wire.Message) (any, error) {
		fw.mu.Lock()
		fw.orders = append(fw.orders, m.Body)
		refuse := fw.refuse
		fw.mu.Unlock()
		select {
		case fw.signal <- struct{}{}:
		default:
		}
		if refuse != nil {
			return nil, refuse(m.Body)
		}
		return nil, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	fw.ep = ep
	return fw
}

func (fw *fakeWorker) addr() string { return fw.node.Addr() }

func (fw *fakeWorker) register(apps ...api.RunningApp) (*api.WorkerRegistered, error) {
	host, p, _ := net.SplitHostPort(fw.addr())
	port, _ := strconv.Atoi(p)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := fw.ep.Ask(ctx, fw.master, &api.RegisterWorker{ID: fw.id, Host: host, Port: port, Cores: fw.cores, Memory: fw.memory, Kinds: fw.kinds, Apps: apps})
	if err != nil {
		return nil, err
	}
	return v.(*api.WorkerRegistered), nil
}

func (fw *fakeWorker) mustRegister(apps ...api.RunningApp) *api.WorkerRegistered {
	fw.t.Helper()
	r, err := fw.register(apps...)
	if err != nil {
		fw.t.Fatalf("register %s: %v", fw.id, err)
	}
	return r
}

func (fw *fakeWorker) heartbeat() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fw.ep.Send(ctx, fw.master, &api.Heartbeat{WorkerID: fw.id}); err != nil {
		fw.t.Fatal(err)
	}
}

func (fw *fakeWorker) report(appID string, run int, state api.AppState, exitCode *int) {
	fw.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := fw.ep.Ask(ctx, fw.master, &api.AppStateChanged{WorkerID: fw.id, AppID: appID, Run: run, State: state, ExitCode: exitCode}); err != nil {
		fw.t.Fatal(err)
	}
}

// next waits for the next order of type T and removes it from the list.
func next[T any](fw *fakeWorker) T {
	fw.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		fw.mu.Lock()
		for i, o := range fw.orders {
			if v, ok := o.(T); ok {
				fw.orders = append(fw.orders[:i], fw.orders[i+1:]...)
				fw.mu.Unlock()
				return v
			}
		}
		fw.mu.Unlock()
		select {
		case <-fw.signal:
		case <-deadline:
			var zero T
			fw.t.Fatalf("worker %s got no %T; orders: %+v", fw.id, zero, fw.orders)
			return zero
		}
	}
}

// none checks that no order of type T is waiting.
func none[T any](fw *fakeWorker) {
	fw.t.Helper()
	fw.mu.Lock()
	defer fw.mu.Unlock()
	for _, o := range fw.orders {
		if _, ok := o.(T); ok {
			fw.t.Fatalf("worker %s got an unexpected %T: %+v", fw.id, o, o)
		}
	}
}

func shell(name string) api.AppSpec {
	return api.AppSpec{Name: name, EntryPoint: "shell", Args: "true", Cores: 1, Memory: 128}
}

func intp(i int) *int { return &i }

// mustClientNode is a node that does not listen.
func mustClientNode(t *testing.T) *wire.Node {
	t.Helper()
	n, err := wire.NewNode(wire.Config{Registry: api.NewRegistry(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}
