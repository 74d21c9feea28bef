package wire_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// ---------------------------------------------------------------------------
// The server under test and raw connections to it.

type confServer struct {
	node   *wire.Node
	addr   string
	master *wire.Endpoint

	mu      sync.Mutex
	handled []string
}

// log returns what the Master endpoint has handled so far, in order.
func (s *confServer) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.handled)
}

func knownAppInfo() *api.AppInfo {
	return &api.AppInfo{
		ID:          knownAppID,
		Spec:        api.AppSpec{Name: "pi", EntryPoint: "shell", Args: "echo 3.14", Cores: 1, Memory: 1024},
		State:       api.AppRunning,
		SubmittedAt: knownSubmitted,
		StartedAt:   knownStarted,
	}
}

func (s *confServer) receive(m *wire.Message) (any, error) {
	switch b := m.Body.(type) {
	case *api.Heartbeat:
		s.record("Heartbeat " + b.WorkerID)
		return nil, nil
	case *api.AppStatusRequest:
		s.record("AppStatusRequest " + b.AppID)
		if b.AppID == knownAppID {
			return knownAppInfo(), nil
		}
		return nil, &wire.RemoteError{Code: api.CodeNotFound, Message: fmt.Sprintf("application %s not found", b.AppID)}
	default:
		s.record(fmt.Sprintf("%T", m.Body))
		return nil, fmt.Errorf("unexpected message %T", m.Body)
	}
}

func (s *confServer) record(what string) {
	s.mu.Lock()
	s.handled = append(s.handled, what)
	s.mu.Unlock()
}

// startServer starts a node serving on a loopback port with the api
// registry and a "Master" endpoint; everything is closed when the test ends.
func startServer(t *testing.T, cfg wire.Config) *confServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Registry = api.NewRegistry()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.AdvertiseAddr = ln.Addr().String()
	node, err := wire.NewNode(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	s := &confServer{node: node, addr: ln.Addr().String()}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = node.Serve(ctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		node.Close()
		<-served
	})
	s.master, err = node.Register(api.MasterEndpoint, wire.HandlerFunc(s.receive))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *rawConn) write(parts ...[]byte) {
	c.t.Helper()
	if err := c.nc.SetWriteDeadline(time.Now().Add(ioTimeout)); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.nc.Write(cat(parts...)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// readFrame reads one frame and returns it whole (header included) and its
// decoded body.
func (c *rawConn) readFrame() ([]byte, any) {
	c.t.Helper()
	if err := c.nc.SetReadDeadline(time.Now().Add(ioTimeout)); err != nil {
		c.t.Fatal(err)
	}
	raw := make([]byte, 4)
	if _, err := io.ReadFull(c.br, raw); err != nil {
		c.t.Fatalf("read frame header: %v", err)
	}
	n := binary.BigEndian.Uint32(raw)
	if n == 0 || n > 1<<20 {
		c.t.Fatalf("frame length %d", n)
	}
	raw = append(raw, make([]byte, n)...)
	if _, err := io.ReadFull(c.br, raw[4:]); err != nil {
		c.t.Fatalf("read frame body: %v", err)
	}
	v, err := decodeOne(raw[4:])
	if err != nil {
		c.t.Fatalf("frame % x: %v", raw, err)
	}
	return raw, v
}

func (c *rawConn) readMap(what string) *mpMap {
	c.t.Helper()
	_, v := c.readFrame()
	return asMap(c.t, what, v)
}

func (c *rawConn) readEnvelope() envelope {
	c.t.Helper()
	_, v := c.readFrame()
	return asEnvelope(c.t, v)
}

// expectClosed asserts that the peer closes the connection without sending
// anything more.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	if err := c.nc.SetReadDeadline(time.Now().Add(ioTimeout)); err != nil {
		c.t.Fatal(err)
	}
	var b [64]byte
	n, err := c.br.Read(b[:])
	if n > 0 {
		c.t.Fatalf("got % x, want the connection closed", b[:n])
	}
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
	case errors.As(err, &ne) && ne.Timeout():
		c.t.Fatalf("connection still open after %v", ioTimeout)
	default:
		c.t.Fatalf("read: %v, want EOF", err)
	}
}

// established registers a barrier (see below) to run when the test ends,
// before the connection and the node are closed.
func (c *rawConn) established() { c.t.Cleanup(c.barrier) }

// barrier asks for an endpoint that does not exist and waits for the
// no_endpoint answer, skipping any other frame. The node answers such an
// ask on the connection's reader goroutine, so once the answer is back,
// that goroutine has finished handing every earlier message to its
// endpoint and waits for the next frame.
//
// It works around a race in Endpoint.deliver, which signals the endpoint's
// goroutine after releasing the mailbox lock: an endpoint stopped by
// Node.Close in between makes deliver send on a closed channel. A handler
// may answer an ask before deliver has sent that signal, so a test that
// closed the node right after its last answer could hit it.
//
// It never fails the test: on a connection the node has closed it returns
// at once.
func (c *rawConn) barrier() {
	const id = 0xba77
	if c.nc.SetDeadline(time.Now().Add(ioTimeout)) != nil {
		return
	}
	if _, err := c.nc.Write(envFrame(kindAsk, id, "no such endpoint (barrier)", "", 0, mNil())); err != nil {
		return
	}
	for {
		hdr := make([]byte, 4)
		if _, err := io.ReadFull(c.br, hdr); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(hdr))
		if _, err := io.ReadFull(c.br, body); err != nil {
			return
		}
		v, err := decodeOne(body)
		if err != nil {
			return
		}
		if a, ok := v.([]any); ok && len(a) == 6 && a[0] == any(uint64(kindError)) && a[1] == any(uint64(id)) {
			return
		}
	}
}

// handshake runs the dialer's side of the handshake by hand and checks that
// it succeeds. It returns the welcome.
func (c *rawConn) handshake(addr string, secret []byte) *mpMap {
	c.t.Helper()
	t := c.t
	nd := testNonce(0x40)
	c.write(helloFrame(1, addr, nd))
	w := c.readMap("welcome")
	if e := strField(t, w, "error"); e != "" {
		t.Fatalf("welcome error %q", e)
	}
	if v := uintField(t, w, "version"); v != 1 {
		t.Fatalf("welcome version %d, want 1", v)
	}
	na := binField(t, w, "nonce")
	if len(na) != 32 {
		t.Fatalf("welcome nonce is %d bytes, want 32", len(na))
	}
	var proof []byte
	if len(secret) > 0 {
		if got, want := binField(t, w, "proof"), hmacProof(secret, acceptorLabel, nd, na); !hmac.Equal(got, want) {
			t.Fatalf("acceptor proof %x, want %x", got, want)
		}
		proof = hmacProof(secret, dialerLabel, na, nd)
	} else if p := binField(t, w, "proof"); len(p) != 0 {
		t.Fatalf("acceptor without a secret sent proof %x", p)
	}
	c.write(proofFrame(proof))
	r := c.readMap("result")
	if !boolField(t, r, "ok") || strField(t, r, "error") != "" {
		t.Fatalf("result ok=%v error=%q, want ok", r.vals["ok"], r.vals["error"])
	}
	c.established()
	return w
}

// connect dials s and completes a handshake without a secret as a client
// that does not listen.
func connect(t *testing.T, s *confServer) *rawConn {
	t.Helper()
	c := dialRaw(t, s.addr)
	c.handshake("", nil)
	return c
}

func expectError(t *testing.T, e envelope, id uint64, code string) *mpMap {
	t.Helper()
	if e.kind != kindError || e.id != id || e.to != "" || e.from != "" || e.code != 0 {
		t.Fatalf("got envelope kind=%d id=%d to=%q from=%q type=%d body=%#v, want an error reply (kind 4) with id %d",
			e.kind, e.id, e.to, e.from, e.code, e.body, id)
	}
	body := asMap(t, "error body", e.body)
	if got := strField(t, body, "code"); got != code {
		t.Fatalf("error code %q (message %q), want %q", got, strField(t, body, "message"), code)
	}
	if strField(t, body, "message") == "" {
		t.Fatal("error reply has no message")
	}
	return body
}

func expectKnownAppInfo(t *testing.T, e envelope, id uint64) {
	t.Helper()
	if e.kind != kindReply || e.id != id || e.code != codeAppInfo {
		t.Fatalf("got envelope kind=%d id=%d type=%d body=%#v, want a reply (kind 3) with id %d and type %d",
			e.kind, e.id, e.code, e.body, id, codeAppInfo)
	}
	info := asMap(t, "AppInfo", e.body)
	if got := strField(t, info, "id"); got != knownAppID {
		t.Fatalf("AppInfo id %q, want %q", got, knownAppID)
	}
	if got := strField(t, info, "state"); got != "RUNNING" {
		t.Fatalf("AppInfo state %q, want RUNNING", got)
	}
	spec := asMap(t, "AppInfo spec", field(t, info, "spec"))
	if got := strField(t, spec, "entryPoint"); got != "shell" {
		t.Fatalf("spec entryPoint %q, want shell", got)
	}
	for key, want := range map[string]time.Time{"submittedAt": knownSubmitted, "startedAt": knownStarted} {
		got, err := decodeTimestamp(field(t, info, key))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if !got.Equal(want) {
			t.Fatalf("%s = %v, want %v", key, got, want)
		}
	}
	if info.has("endedAt") || info.has("history") {
		t.Fatalf("AppInfo keys %v: optional zero fields must be omitted", info.keys)
	}
}
