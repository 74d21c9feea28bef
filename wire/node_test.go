package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alohasched/aloha/internal/testutil"
)

func TestAskRoundTrip(t *testing.T) {
	srv := startNode(t, Config{})
	if _, err := srv.Register("echo", echoHandler()); err != nil {
		t.Fatal(err)
	}
	cli := newClient(t, Config{})
	reply, err := cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "echo"}, &ping{N: 7})
	if err != nil {
		t.Fatalf("Ask = %v", err)
	}
	if got := reply.(*pong).N; got != 7 {
		t.Fatalf("Ask reply N = %d, want 7", got)
	}
}

func TestAskValueBodyAndNilReply(t *testing.T) {
	srv := startNode(t, Config{})
	srv.Register("nil", HandlerFunc(func(m *Message) (any, error) {
		if _, ok := m.Body.(*ping); !ok {
			return nil, fmt.Errorf("body is %T, want *ping", m.Body)
		}
		return nil, nil
	}))
	cli := newClient(t, Config{})
	reply, err := cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "nil"}, ping{N: 1})
	if err != nil || reply != nil {
		t.Fatalf("Ask = %v, %v; want nil, nil", reply, err)
	}
}

func TestRemoteErrorCarriesCode(t *testing.T) {
	srv := startNode(t, Config{})
	srv.Register("fail", HandlerFunc(func(m *Message) (any, error) {
		return nil, &RemoteError{Code: "standby", Message: "not the leader", Detail: "aloha://10.0.0.1:7077"}
	}))
	srv.Register("plain", HandlerFunc(func(m *Message) (any, error) {
		return nil, errors.New("plain failure")
	}))
	cli := newClient(t, Config{})
	_, err := cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "fail"}, &ping{})
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != "standby" || re.Detail != "aloha://10.0.0.1:7077" || re.Message != "not the leader" {
		t.Fatalf("Ask error = %#v, want RemoteError standby with detail", err)
	}
	_, err = cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "plain"}, &ping{})
	if !errors.As(err, &re) || re.Code != CodeInternal || re.Message != "plain failure" {
		t.Fatalf("Ask error = %#v, want internal 'plain failure'", err)
	}
}

func TestAskTimeoutIsDistinct(t *testing.T) {
	srv := startNode(t, Config{})
	release := make(chan struct{})
	srv.Register("slow", HandlerFunc(func(m *Message) (any, error) {
		reply := m.Defer()
		go func() { <-release; reply(&pong{}, nil) }()
		return nil, nil
	}))
	defer close(release)
	cli := newClient(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := cli.Ask(ctx, Address{Host: srv.Addr(), Name: "slow"}, &ping{})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ask = %v, want ErrTimeout", err)
	}
	if errors.Is(err, ErrPeerGone) {
		t.Fatalf("timeout %v must not look like a lost peer", err)
	}
	// A cancelled context is not a timeout.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = cli.Ask(ctx2, Address{Host: srv.Addr(), Name: "slow"}, &ping{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("Ask with cancelled ctx = %v, want context.Canceled", err)
	}
}

func TestDeferredReply(t *testing.T) {
	srv := startNode(t, Config{})
	srv.Register("later", HandlerFunc(func(m *Message) (any, error) {
		reply := m.Defer()
		n := m.Body.(*ping).N
		go reply(&pong{N: n * 2}, nil)
		return nil, errors.New("ignored after Defer")
	}))
	cli := newClient(t, Config{})
	reply, err := cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "later"}, &ping{N: 21})
	if err != nil || reply.(*pong).N != 42 {
		t.Fatalf("Ask = %v, %v; want pong 42", reply, err)
	}
}

// Messages from one sender reach an endpoint in order and are handled one
// at a time.
func TestEndpointHandlesInOrderOneAtATime(t *testing.T) {
	srv := startNode(t, Config{})
	var (
		mu      sync.Mutex
		got     []int
		running atomic.Int32
		overlap atomic.Bool
	)
	srv.Register("seq", HandlerFunc(func(m *Message) (any, error) {
		if running.Add(1) != 1 {
			overlap.Store(true)
		}
		defer running.Add(-1)
		mu.Lock()
		got = append(got, m.Body.(*ping).N)
		mu.Unlock()
		return nil, nil
	}))
	cli := newClient(t, Config{})
	to := Address{Host: srv.Addr(), Name: "seq"}
	const n = 2000
	for i := range n {
		if err := cli.Send(ctxTimeout(t, 5*time.Second), to, &ping{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	// An Ask after the sends is answered after all of them were handled.
	if _, err := cli.Ask(ctxTimeout(t, 5*time.Second), to, &ping{N: n}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n+1 {
		t.Fatalf("handled %d messages, want %d", len(got), n+1)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("message %d was %d: out of order", i, v)
		}
	}
	if overlap.Load() {
		t.Fatal("handler ran concurrently with itself")
	}
}

func TestUnknownTypeGetsErrorReply(t *testing.T) {
	srv := startNode(t, Config{})
	srv.Register("echo", echoHandler())
	// The client knows a type the server does not.
	reg := testRegistry()
	reg.MustRegister(200, (*unregistered)(nil))
	cli := newClient(t, Config{Registry: reg})
	to := Address{Host: srv.Addr(), Name: "echo"}
	_, err := cli.Ask(ctxTimeout(t, 5*time.Second), to, &unregistered{X: 1})
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeUnknownType {
		t.Fatalf("Ask(unknown type) = %v, want %s error", err, CodeUnknownType)
	}
	// The connection survives.
	if _, err := cli.Ask(ctxTimeout(t, 5*time.Second), to, &ping{N: 1}); err != nil {
		t.Fatalf("Ask after unknown type = %v", err)
	}
	// Sending a type the sender itself does not know fails locally.
	if err := cli.Send(ctxTimeout(t, 5*time.Second), to, &struct{ A int }{1}); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("Send(unregistered) = %v, want ErrUnknownType", err)
	}
}

func TestBodyOfWrongShapeGetsErrorReply(t *testing.T) {
	srv := startNode(t, Config{})
	srv.Register("echo", echoHandler())
	// Code 100 is ping on the server; the client sends a different shape.
	reg := NewRegistry()
	type badPing struct {
		N []string `msgpack:"n"`
	}
	reg.MustRegister(100, (*badPing)(nil))
	reg.MustRegister(101, (*pong)(nil))
	cli := newClient(t, Config{Registry: reg})
	_, err := cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "echo"}, &badPing{N: []string{"x"}})
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeBadMessage {
		t.Fatalf("Ask(bad shape) = %v, want %s", err, CodeBadMessage)
	}
}

func TestNoEndpoint(t *testing.T) {
	srv := startNode(t, Config{})
	cli := newClient(t, Config{})
	_, err := cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "missing"}, &ping{})
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeNoEndpoint {
		t.Fatalf("Ask(missing endpoint) = %v, want %s", err, CodeNoEndpoint)
	}
}

func TestHandlerPanicIsContained(t *testing.T) {
	srv := startNode(t, Config{})
	srv.Register("boom", HandlerFunc(func(m *Message) (any, error) {
		if m.Body.(*ping).N == 0 {
			panic("boom")
		}
		return &pong{N: 1}, nil
	}))
	cli := newClient(t, Config{})
	to := Address{Host: srv.Addr(), Name: "boom"}
	_, err := cli.Ask(ctxTimeout(t, 5*time.Second), to, &ping{N: 0})
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeInternal {
		t.Fatalf("Ask(panicking handler) = %v, want %s", err, CodeInternal)
	}
	if _, err := cli.Ask(ctxTimeout(t, 5*time.Second), to, &ping{N: 1}); err != nil {
		t.Fatalf("endpoint dead after a panic: %v", err)
	}
}

func TestMailboxOverflowRefusesAsks(t *testing.T) {
	srv := startNode(t, Config{MailboxSize: 1})
	block := make(chan struct{})
	entered := make(chan struct{}, 1)
	srv.Register("busy", HandlerFunc(func(m *Message) (any, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-block
		return &pong{}, nil
	}))
	cli := newClient(t, Config{})
	to := Address{Host: srv.Addr(), Name: "busy"}
	errs := make(chan error, 3)
	go func() { _, err := cli.Ask(ctxTimeout(t, 10*time.Second), to, &ping{}); errs <- err }()
	<-entered // the first ask is being handled; the mailbox is empty
	go func() { _, err := cli.Ask(ctxTimeout(t, 10*time.Second), to, &ping{}); errs <- err }()
	testutil.WaitFor(t, 5*time.Second, func() error {
		ep := srv.endpoints["busy"]
		ep.mu.Lock()
		defer ep.mu.Unlock()
		if len(ep.queue) != 1 {
			return fmt.Errorf("queue has %d", len(ep.queue))
		}
		return nil
	})
	_, err := cli.Ask(ctxTimeout(t, 5*time.Second), to, &ping{})
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeOverloaded {
		t.Fatalf("Ask to a full mailbox = %v, want %s", err, CodeOverloaded)
	}
	close(block)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("queued ask = %v", err)
		}
	}
}

func TestLocalAskAndSend(t *testing.T) {
	srv := startNode(t, Config{})
	got := make(chan int, 1)
	srv.Register("echo", echoHandler())
	srv.Register("sink", HandlerFunc(func(m *Message) (any, error) {
		got <- m.Body.(*ping).N
		return nil, nil
	}))
	reply, err := srv.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "echo"}, ping{N: 3})
	if err != nil || reply.(*pong).N != 3 {
		t.Fatalf("local Ask = %v, %v", reply, err)
	}
	if err := srv.Send(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "sink"}, &ping{N: 9}); err != nil {
		t.Fatal(err)
	}
	if n := <-got; n != 9 {
		t.Fatalf("local Send delivered %d, want 9", n)
	}
	_, err = srv.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "none"}, &ping{})
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeNoEndpoint {
		t.Fatalf("local Ask to missing endpoint = %v", err)
	}
}

// A peer that dials in announces its listen address; the acceptor then
// reaches the peer's endpoints over that same connection.
func TestOneConnectionServesBothDirections(t *testing.T) {
	a := startNode(t, Config{})
	b := startNode(t, Config{})
	var accepted atomic.Int32
	got := make(chan Address, 1)
	a.Register("a", HandlerFunc(func(m *Message) (any, error) {
		got <- m.From
		return nil, nil
	}))
	bEp, _ := b.Register("b", echoHandler())
	// b dials a, naming its endpoint as sender.
	if err := bEp.Send(ctxTimeout(t, 5*time.Second), Address{Host: a.Addr(), Name: "a"}, &ping{}); err != nil {
		t.Fatal(err)
	}
	from := <-got
	if from.Host != b.Addr() || from.Name != "b" {
		t.Fatalf("From = %v, want %s/b", from, b.Addr())
	}
	// Count connections b accepts from now on: a must not dial.
	b.mu.Lock()
	before := len(b.all)
	b.mu.Unlock()
	reply, err := a.Ask(ctxTimeout(t, 5*time.Second), from, &ping{N: 5})
	if err != nil || reply.(*pong).N != 5 {
		t.Fatalf("Ask back = %v, %v", reply, err)
	}
	b.mu.Lock()
	after := len(b.all)
	b.mu.Unlock()
	a.mu.Lock()
	aConns := len(a.all)
	a.mu.Unlock()
	if after != before || aConns != 1 || accepted.Load() != 0 {
		t.Fatalf("connections: b %d -> %d, a %d; want one connection reused", before, after, aConns)
	}
}

// An anonymous client (one that does not listen) can be answered by Send
// while it stays connected.
func TestSendBackToAnonymousClient(t *testing.T) {
	srv := startNode(t, Config{})
	srv.Register("sub", HandlerFunc(func(m *Message) (any, error) {
		go func(from Address) {
			_ = srv.Send(context.Background(), from, &pong{N: 77})
		}(m.From)
		return nil, nil
	}))
	cli := newClient(t, Config{})
	got := make(chan int, 1)
	ep, err := cli.Register("inbox", HandlerFunc(func(m *Message) (any, error) {
		got <- m.Body.(*pong).N
		return nil, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := ep.Send(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "sub"}, &ping{}); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != 77 {
			t.Fatalf("got %d, want 77", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message back to the anonymous client")
	}
}

type observer struct {
	events chan string
}

func (o *observer) Receive(m *Message) (any, error) { return nil, nil }
func (o *observer) PeerConnected(peer string)       { o.events <- "+" + peer }
func (o *observer) PeerDisconnected(peer string)    { o.events <- "-" + peer }

func TestConnectedDisconnectedNotifications(t *testing.T) {
	srv := startNode(t, Config{})
	obs := &observer{events: make(chan string, 10)}
	srv.Register("obs", obs)
	srv.Register("echo", echoHandler())
	peer := startNode(t, Config{})
	if _, err := peer.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "echo"}, &ping{}); err != nil {
		t.Fatal(err)
	}
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-obs.events:
			if got != want {
				t.Fatalf("event %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event, want %q", want)
		}
	}
	expect("+" + peer.Addr())
	peer.Close()
	expect("-" + peer.Addr())
}

func TestReconnectOnDemand(t *testing.T) {
	srv := startNode(t, Config{})
	srv.Register("echo", echoHandler())
	cli := newClient(t, Config{})
	to := Address{Host: srv.Addr(), Name: "echo"}
	if _, err := cli.Ask(ctxTimeout(t, 5*time.Second), to, &ping{}); err != nil {
		t.Fatal(err)
	}
	// Break the connection from the server side.
	for _, c := range openConns(srv) {
		c.close(errors.New("test breaks the connection"))
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		cli.mu.Lock()
		defer cli.mu.Unlock()
		if len(cli.all) != 0 {
			return errors.New("client still holds the broken connection")
		}
		return nil
	})
	if _, err := cli.Ask(ctxTimeout(t, 5*time.Second), to, &ping{N: 2}); err != nil {
		t.Fatalf("Ask after reconnect = %v", err)
	}
}

func TestIdleConnectionsClose(t *testing.T) {
	srv := startNode(t, Config{IdleTimeout: 300 * time.Millisecond})
	srv.Register("echo", echoHandler())
	cli := newClient(t, Config{IdleTimeout: -1})
	to := Address{Host: srv.Addr(), Name: "echo"}
	if _, err := cli.Ask(ctxTimeout(t, 5*time.Second), to, &ping{}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		cli.mu.Lock()
		defer cli.mu.Unlock()
		if len(cli.all) != 0 {
			return errors.New("idle connection still open")
		}
		return nil
	})
	// A pending ask keeps a connection open past the idle timeout.
	release := make(chan struct{})
	srv.Register("hold", HandlerFunc(func(m *Message) (any, error) {
		reply := m.Defer()
		go func() { <-release; reply(&pong{N: 1}, nil) }()
		return nil, nil
	}))
	done := make(chan error, 1)
	go func() {
		_, err := cli.Ask(ctxTimeout(t, 10*time.Second), Address{Host: srv.Addr(), Name: "hold"}, &ping{})
		done <- err
	}()
	// Wait for several idle periods' worth of server activity checks.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("ask ended early: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("pending ask across idle timeout = %v", err)
	}
}

func TestDialFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cli := newClient(t, Config{})
	_, err = cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: addr, Name: "x"}, &ping{})
	// Connection refused, unless a listener of another test took the
	// freed port meanwhile: then the handshake or the endpoint fails.
	if err == nil {
		t.Fatal("Ask to a closed port succeeded")
	}
	if !errors.Is(err, syscallECONNREFUSED()) {
		t.Logf("the freed port was taken meanwhile: %v", err)
	}
}

func TestClosedNode(t *testing.T) {
	cli := newClient(t, Config{})
	cli.Close()
	if _, err := cli.Ask(context.Background(), Address{Host: "127.0.0.1:1", Name: "x"}, &ping{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ask on closed node = %v, want ErrClosed", err)
	}
	if _, err := cli.Register("x", echoHandler()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Register on closed node = %v, want ErrClosed", err)
	}
}
