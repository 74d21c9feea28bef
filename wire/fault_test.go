package wire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/internal/testutil"
)

// logRecorder collects log records for assertions.
type logRecorder struct {
	mu   sync.Mutex
	recs []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	r.recs = append(r.recs, b.String())
	r.mu.Unlock()
	return nil
}

func (r *logRecorder) matching(substrs ...string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
next:
	for _, rec := range r.recs {
		for _, s := range substrs {
			if !strings.Contains(rec, s) {
				continue next
			}
		}
		out = append(out, rec)
	}
	return out
}

// rawPeer is a hand-driven connection that has completed the handshake.
type rawPeer struct {
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr, ownAddr string, secret []byte) *rawPeer {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(nc)
	if _, err := dialHandshake(nc, br, ownAddr, secret); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	nc.SetDeadline(time.Time{})
	return &rawPeer{nc: nc, br: br}
}

// expectClosed waits until the server closes the raw connection.
func (p *rawPeer) expectClosed(t *testing.T) {
	t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, p.br)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("server did not close the connection")
		}
	}
}

// assertServes checks the node still answers a fresh client.
func assertServes(t *testing.T, srv *Node) {
	t.Helper()
	cli := newClient(t, Config{})
	reply, err := cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "echo"}, &ping{N: 11})
	if err != nil || reply.(*pong).N != 11 {
		t.Fatalf("server no longer serves: %v, %v", reply, err)
	}
}

func frameOf(body []byte) []byte {
	out := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(out, uint32(len(body)))
	copy(out[4:], body)
	return out
}

func TestBadFramesCloseOnlyThatConnection(t *testing.T) {
	cases := []struct {
		name   string
		bytes  []byte
		reason string
	}{
		{"undecodable body", frameOf([]byte{0xc1, 0xc1, 0xc1}), "malformed frame"},
		{"not an envelope", frameOf([]byte{0x93, 0x01, 0x02, 0x03}), "malformed frame"},
		{"trailing bytes", frameOf([]byte{0x96, 0x01, 0x00, 0xa0, 0xa0, 0x00, 0xc0, 0xc0}), "trailing"},
		{"zero length", []byte{0, 0, 0, 0}, "zero-length"},
		{"oversize", []byte{0x7f, 0xff, 0xff, 0xff}, "frame too large"},
		{"truncated", append([]byte{0, 0, 0, 100}, bytes.Repeat([]byte{0x90}, 10)...), "truncated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &logRecorder{}
			srv := startNode(t, Config{Logger: slog.New(rec), MaxFrameSize: 1 << 20})
			srv.Register("echo", echoHandler())
			bystander := newClient(t, Config{})
			to := Address{Host: srv.Addr(), Name: "echo"}
			if _, err := bystander.Ask(ctxTimeout(t, 5*time.Second), to, &ping{}); err != nil {
				t.Fatal(err)
			}
			p := dialRaw(t, srv.Addr(), "", nil)
			if _, err := p.nc.Write(tc.bytes); err != nil {
				t.Fatal(err)
			}
			if tc.name == "truncated" {
				p.nc.(*net.TCPConn).CloseWrite()
			}
			p.expectClosed(t)
			testutil.WaitFor(t, 5*time.Second, func() error {
				if got := rec.matching("connection closed", "peer=anon:"+p.nc.LocalAddr().String(), tc.reason); len(got) != 1 {
					return fmt.Errorf("want one close log line naming the peer and %q, got %q", tc.reason, rec.matching("connection closed"))
				}
				return nil
			})
			// The bystander's connection is untouched and the server serves.
			if _, err := bystander.Ask(ctxTimeout(t, 5*time.Second), to, &ping{}); err != nil {
				t.Fatalf("bystander lost its connection: %v", err)
			}
			assertServes(t, srv)
		})
	}
}

func TestHandshakeThatNeverCompletes(t *testing.T) {
	rec := &logRecorder{}
	srv := startNode(t, Config{HandshakeTimeout: 100 * time.Millisecond, Logger: slog.New(rec)})
	srv.Register("echo", echoHandler())
	silent, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// Half a hello, then nothing.
	partial, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer partial.Close()
	partial.Write([]byte{0, 0, 0, 50, 0x84})
	assertServes(t, srv) // served while the slow peers hang
	for _, nc := range []net.Conn{silent, partial} {
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, nc); err != nil {
			t.Fatalf("slow peer was not dropped: %v", err)
		}
	}
	if got := rec.matching("handshake failed"); len(got) != 2 {
		t.Fatalf("handshake failure log lines = %q, want 2", got)
	}
}

func TestAuthentication(t *testing.T) {
	cases := []struct {
		name                string
		server, client      string
		wantOK              bool
		wantErrIs           error
		wantMessageContains string
	}{
		{"same secret", "s3cret", "s3cret", true, nil, ""},
		{"wrong secret", "s3cret", "guess", false, ErrUnauthenticated, "secret proof is wrong"},
		{"client without secret", "s3cret", "", false, ErrUnauthenticated, "authentication required"},
		{"server without secret", "", "s3cret", false, ErrUnauthenticated, "peer has no secret"},
		{"no secrets", "", "", true, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &logRecorder{}
			srv := startNode(t, Config{Secret: []byte(tc.server), Logger: slog.New(rec)})
			srv.Register("echo", echoHandler())
			cli := newClient(t, Config{Secret: []byte(tc.client)})
			_, err := cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "echo"}, &ping{})
			if tc.wantOK {
				if err != nil {
					t.Fatalf("Ask = %v", err)
				}
				return
			}
			if !errors.Is(err, tc.wantErrIs) || !strings.Contains(err.Error(), tc.wantMessageContains) {
				t.Fatalf("Ask = %v, want %v containing %q", err, tc.wantErrIs, tc.wantMessageContains)
			}
			good := newClient(t, Config{Secret: []byte(tc.server)})
			if _, err := good.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "echo"}, &ping{}); err != nil {
				t.Fatalf("server stopped serving good clients: %v", err)
			}
		})
	}
}

// Nothing is dispatched on a connection before its handshake succeeds:
// an envelope sent in place of the handshake reaches no endpoint.
func TestNoDispatchBeforeHandshake(t *testing.T) {
	srv := startNode(t, Config{Secret: []byte("k")})
	called := make(chan struct{}, 1)
	srv.Register("echo", HandlerFunc(func(m *Message) (any, error) {
		called <- struct{}{}
		return nil, nil
	}))
	f, err := testRegistry().encodeEnvelope(&envelope{kind: kindSend, to: "echo", body: &ping{}}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(f.buf.Bytes())
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, nc) // the server drops us
	// Prove the endpoint works, and that it saw only this one message.
	good := newClient(t, Config{Secret: []byte("k")})
	if err := good.Send(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "echo"}, &ping{}); err != nil {
		t.Fatal(err)
	}
	<-called
	select {
	case <-called:
		t.Fatal("a message sent before the handshake was dispatched")
	default:
	}
}

func TestVersionMismatchIsExplained(t *testing.T) {
	srv := startNode(t, Config{})
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := writeHandshake(nc, &helloMsg{Magic: handshakeMagic, Version: 99, Nonce: newNonce()}); err != nil {
		t.Fatal(err)
	}
	var w welcomeMsg
	if err := readHandshake(bufio.NewReader(nc), &w); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.Error, "protocol version 99 is not supported") || !strings.Contains(w.Error, "speaks 1") {
		t.Fatalf("welcome error = %q, want a version explanation", w.Error)
	}
}

// A peer that never reads is disconnected once too much waits for it;
// senders are never blocked by it.
func TestSlowListenerIsDisconnected(t *testing.T) {
	srv := startNode(t, Config{MaxFrameSize: 64 << 10, MaxPendingBytes: 256 << 10})
	srv.Register("echo", echoHandler())
	// The raw peer claims a listen address so the server can send to it,
	// then never reads. Shrink its receive buffer so the kernel fills fast.
	p := dialRaw(t, srv.Addr(), "127.0.0.1:1", nil)
	p.nc.(*net.TCPConn).SetReadBuffer(4 << 10)
	to := Address{Host: "127.0.0.1:1", Name: "sink"}
	big := &ping{Text: strings.Repeat("x", 60<<10)}
	var err error
	deadline := time.Now().Add(20 * time.Second)
	for err == nil && time.Now().Before(deadline) {
		err = srv.Send(ctxTimeout(t, time.Second), to, big)
	}
	if !errors.Is(err, ErrPeerGone) || !strings.Contains(err.Error(), "too slow") {
		t.Fatalf("Send to a peer that never reads = %v, want ErrPeerGone (too slow)", err)
	}
	assertServes(t, srv)
}

func TestThousandConnectionsOpenedAndDropped(t *testing.T) {
	srv := startNode(t, Config{HandshakeTimeout: 2 * time.Second})
	srv.Register("echo", echoHandler())
	hello, err := encodeValueFrame(&helloMsg{Magic: handshakeMagic, Version: ProtocolVersion, Nonce: newNonce()}, maxHandshakeSize)
	if err != nil {
		t.Fatal(err)
	}
	defer hello.release()
	for i := range 1000 {
		nc, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		switch i % 3 {
		case 1: // mid-handshake
			nc.Write(hello.buf.Bytes())
		case 2: // fully connected, then gone
			nc.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := dialHandshake(nc, bufio.NewReader(nc), "", nil); err != nil {
				t.Fatalf("handshake %d: %v", i, err)
			}
		}
		nc.Close()
	}
	assertServes(t, srv)
	testutil.WaitFor(t, 10*time.Second, func() error {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		if len(srv.all) > 1 || len(srv.accepted) > 0 {
			return fmt.Errorf("%d connections and %d handshakes still open", len(srv.all), len(srv.accepted))
		}
		return nil
	})
}

// helperServerEnv makes the test binary act as a wire server in a child
// process, so that a test can kill -9 a real peer.
const helperServerEnv = "ALOHA_WIRE_TEST_SERVER"

func runHelperServer() {
	n, err := NewNode(Config{Registry: testRegistry(), Logger: quietLogger()})
	if err != nil {
		panic(err)
	}
	n.Register("hang", HandlerFunc(func(m *Message) (any, error) {
		m.Defer() // never answered
		return nil, nil
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Println(ln.Addr().String())
	n.Serve(context.Background(), ln)
}

func TestPeerKilledDuringAsk(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperServerEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper server did not start: %v", err)
	}
	addr = strings.TrimSpace(addr)
	cli := newClient(t, Config{})
	done := make(chan error, 1)
	go func() {
		_, err := cli.Ask(ctxTimeout(t, time.Minute), Address{Host: addr, Name: "hang"}, &ping{})
		done <- err
	}()
	testutil.WaitFor(t, 10*time.Second, func() error {
		for _, c := range openConns(cli) {
			c.pmu.Lock()
			n := len(c.pending)
			c.pmu.Unlock()
			if n == 1 {
				return nil
			}
		}
		return errors.New("ask not yet pending")
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// The Ask fails at once, long before its one-minute deadline.
	select {
	case err := <-done:
		if !errors.Is(err, ErrPeerGone) {
			t.Fatalf("Ask to a killed peer = %v, want ErrPeerGone", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Ask still waiting 10 s after its peer was killed")
	}
}
