package wire_test

// Conformance tests: a real node is driven over a raw TCP connection with
// bytes built by hand from docs/wire.md, without this package's encoder or
// the msgpack library, and its answers are parsed by a small hand-written
// msgpack reader. TestConformanceDocExamples replays the worked examples of
// the document byte for byte and TestConformanceDocMessageTables checks its
// tables of message types and fields against package api, so the document
// and the code cannot drift apart.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// ioTimeout bounds every read and write on a raw connection.
const ioTimeout = 10 * time.Second

// Envelope kinds, handshake labels and type codes, as docs/wire.md gives them.
const (
	kindSend  = 1
	kindAsk   = 2
	kindReply = 3
	kindError = 4

	acceptorLabel = "aloha-acceptor"
	dialerLabel   = "aloha-dialer"

	codeHeartbeat        = 102
	codeAppStatusRequest = 124
	codeAppInfo          = 125
	codeMasterStatusReq  = 130
	codeMasterInfo       = 131
)

const (
	knownAppID   = "app-20190311221731-0001"
	unknownAppID = "app-20190311221731-0000" // the id of the worked example
)

var (
	knownSubmitted = time.Date(2019, 3, 11, 22, 17, 31, 0, time.UTC)
	knownStarted   = time.Date(2019, 3, 11, 22, 17, 31, 500_000_000, time.UTC)
)

// ---------------------------------------------------------------------------
// Hand-written msgpack encoding.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func mNil() []byte { return []byte{0xc0} }

func mMap(n int) []byte {
	if n > 15 {
		panic("mMap: only fixmap")
	}
	return []byte{0x80 | byte(n)}
}

func mArr(n int) []byte {
	if n > 15 {
		panic("mArr: only fixarray")
	}
	return []byte{0x90 | byte(n)}
}

func mStr(s string) []byte {
	switch {
	case len(s) < 32:
		return append([]byte{0xa0 | byte(len(s))}, s...)
	case len(s) < 256:
		return append([]byte{0xd9, byte(len(s))}, s...)
	}
	panic("mStr: only fixstr and str8")
}

// mUint writes v in the shortest unsigned encoding.
func mUint(v uint64) []byte {
	switch {
	case v < 128:
		return []byte{byte(v)}
	case v <= math.MaxUint8:
		return mUint8(uint8(v))
	case v <= math.MaxUint16:
		return mUint16(uint16(v))
	case v <= math.MaxUint32:
		return mUint32(uint32(v))
	}
	return mUint64(v)
}

func mUint8(v uint8) []byte   { return []byte{0xcc, v} }
func mUint16(v uint16) []byte { return binary.BigEndian.AppendUint16([]byte{0xcd}, v) }
func mUint32(v uint32) []byte { return binary.BigEndian.AppendUint32([]byte{0xce}, v) }
func mUint64(v uint64) []byte { return binary.BigEndian.AppendUint64([]byte{0xcf}, v) }
func mInt8(v int8) []byte     { return []byte{0xd0, byte(v)} }

func mBin(b []byte) []byte {
	if len(b) > 255 {
		panic("mBin: only bin8")
	}
	return append([]byte{0xc4, byte(len(b))}, b...)
}

// frame prefixes body with its 4-byte big-endian length.
func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func helloFrame(version uint64, addr string, nonce []byte) []byte {
	return frame(cat(mMap(4),
		mStr("magic"), mStr("aloha"),
		mStr("version"), mUint(version),
		mStr("addr"), mStr(addr),
		mStr("nonce"), mBin(nonce)))
}

func proofFrame(proof []byte) []byte {
	p := mNil()
	if len(proof) > 0 {
		p = mBin(proof)
	}
	return frame(cat(mMap(1), mStr("proof"), p))
}

func envFrame(kind, id uint64, to, from string, code uint64, body []byte) []byte {
	return frame(cat(mArr(6), mUint(kind), mUint(id), mStr(to), mStr(from), mUint(code), body))
}

func appStatusBody(appID string) []byte {
	return cat(mMap(1), mStr("appId"), mStr(appID))
}

func heartbeatBody(workerID string) []byte {
	return cat(mMap(1), mStr("workerId"), mStr(workerID))
}

func hmacProof(secret []byte, label string, first, second []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write(first)
	m.Write(second)
	return m.Sum(nil)
}

func testNonce(first byte) []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}

// ---------------------------------------------------------------------------
// Hand-written msgpack decoding: enough for what a node sends.

// mpMap is a decoded map with string keys, in wire order.
type mpMap struct {
	keys []string
	vals map[string]any
}

func (m *mpMap) has(k string) bool { _, ok := m.vals[k]; return ok }

// mpExt is a decoded extension value.
type mpExt struct {
	typ  int8
	data []byte
}

type mpReader struct {
	b []byte
	p int
}

var errShort = errors.New("msgpack: unexpected end of data")

func (r *mpReader) take(n int) ([]byte, error) {
	if n < 0 || len(r.b)-r.p < n {
		return nil, errShort
	}
	out := r.b[r.p : r.p+n]
	r.p += n
	return out, nil
}

func (r *mpReader) be(n int) (uint64, error) {
	b, err := r.take(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// value decodes one value: nil, bool, uint64 (non-negative integers), int64
// (negative integers), float64, string, []byte, []any, *mpMap or mpExt.
func (r *mpReader) value() (any, error) {
	cb, err := r.take(1)
	if err != nil {
		return nil, err
	}
	c := cb[0]
	switch {
	case c <= 0x7f:
		return uint64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c&0xf0 == 0x80:
		return r.mapBody(int(c & 0x0f))
	case c&0xf0 == 0x90:
		return r.arrayBody(int(c & 0x0f))
	case c&0xe0 == 0xa0:
		return r.strBody(int(c & 0x1f))
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6: // bin 8/16/32
		n, err := r.be(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		b, err := r.take(int(n))
		return bytes.Clone(b), err
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32
		n, err := r.be(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		return r.extBody(int(n))
	case 0xca:
		v, err := r.be(4)
		return float64(math.Float32frombits(uint32(v))), err
	case 0xcb:
		v, err := r.be(8)
		return math.Float64frombits(v), err
	case 0xcc, 0xcd, 0xce, 0xcf: // uint 8/16/32/64
		return r.be(1 << (c - 0xcc))
	case 0xd0, 0xd1, 0xd2, 0xd3: // int 8/16/32/64
		size := 1 << (c - 0xd0)
		v, err := r.be(size)
		if err != nil {
			return nil, err
		}
		shift := 64 - 8*size
		n := int64(v<<shift) >> shift
		if n >= 0 {
			return uint64(n), nil
		}
		return n, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1/2/4/8/16
		return r.extBody(1 << (c - 0xd4))
	case 0xd9, 0xda, 0xdb: // str 8/16/32
		n, err := r.be(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return r.strBody(int(n))
	case 0xdc, 0xdd: // array 16/32
		n, err := r.be(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return r.arrayBody(int(n))
	case 0xde, 0xdf: // map 16/32
		n, err := r.be(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return r.mapBody(int(n))
	}
	return nil, fmt.Errorf("msgpack: invalid code 0x%02x at offset %d", c, r.p-1)
}

func (r *mpReader) strBody(n int) (any, error) {
	b, err := r.take(n)
	return string(b), err
}

func (r *mpReader) extBody(n int) (any, error) {
	t, err := r.take(1)
	if err != nil {
		return nil, err
	}
	b, err := r.take(n)
	return mpExt{typ: int8(t[0]), data: bytes.Clone(b)}, err
}

func (r *mpReader) arrayBody(n int) (any, error) {
	out := make([]any, n)
	for i := range out {
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (r *mpReader) mapBody(n int) (any, error) {
	m := &mpMap{vals: map[string]any{}}
	for range n {
		k, err := r.value()
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("msgpack: map key %v (%T) is not a string", k, k)
		}
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		if _, dup := m.vals[ks]; dup {
			return nil, fmt.Errorf("msgpack: duplicate map key %q", ks)
		}
		m.keys = append(m.keys, ks)
		m.vals[ks] = v
	}
	return m, nil
}

// decodeOne decodes b as exactly one msgpack value.
func decodeOne(b []byte) (any, error) {
	r := &mpReader{b: b}
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	if r.p != len(b) {
		return nil, fmt.Errorf("msgpack: %d trailing bytes", len(b)-r.p)
	}
	return v, nil
}

// decodeTimestamp decodes a msgpack timestamp extension (type -1).
func decodeTimestamp(v any) (time.Time, error) {
	e, ok := v.(mpExt)
	if !ok || e.typ != -1 {
		return time.Time{}, fmt.Errorf("%#v is not a timestamp extension", v)
	}
	switch len(e.data) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(e.data)), 0).UTC(), nil
	case 8:
		x := binary.BigEndian.Uint64(e.data)
		return time.Unix(int64(x&(1<<34-1)), int64(x>>34)).UTC(), nil
	case 12:
		ns := binary.BigEndian.Uint32(e.data)
		s := int64(binary.BigEndian.Uint64(e.data[4:]))
		return time.Unix(s, int64(ns)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("timestamp of %d bytes", len(e.data))
}

// ---------------------------------------------------------------------------
// Typed access to decoded values.

func asMap(t *testing.T, what string, v any) *mpMap {
	t.Helper()
	m, ok := v.(*mpMap)
	if !ok {
		t.Fatalf("%s = %#v, want a map", what, v)
	}
	return m
}

func field(t *testing.T, m *mpMap, key string) any {
	t.Helper()
	v, ok := m.vals[key]
	if !ok {
		t.Fatalf("map %v has no key %q", m.keys, key)
	}
	return v
}

func strField(t *testing.T, m *mpMap, key string) string {
	t.Helper()
	switch v := field(t, m, key).(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		t.Fatalf("%q = %#v, want a str", key, v)
		return ""
	}
}

func uintField(t *testing.T, m *mpMap, key string) uint64 {
	t.Helper()
	v, ok := field(t, m, key).(uint64)
	if !ok {
		t.Fatalf("%q = %#v, want a non-negative int", key, m.vals[key])
	}
	return v
}

func binField(t *testing.T, m *mpMap, key string) []byte {
	t.Helper()
	switch v := field(t, m, key).(type) {
	case []byte:
		return v
	case nil:
		return nil
	default:
		t.Fatalf("%q = %#v, want bin or nil", key, v)
		return nil
	}
}

func boolField(t *testing.T, m *mpMap, key string) bool {
	t.Helper()
	v, ok := field(t, m, key).(bool)
	if !ok {
		t.Fatalf("%q = %#v, want a bool", key, m.vals[key])
	}
	return v
}

// envelope is a decoded envelope.
type envelope struct {
	kind, id uint64
	to, from string
	code     uint64
	body     any
}

func asEnvelope(t *testing.T, v any) envelope {
	t.Helper()
	a, ok := v.([]any)
	if !ok || len(a) != 6 {
		t.Fatalf("envelope = %#v, want an array of 6", v)
	}
	var e envelope
	var ok1, ok2, ok3, ok4, ok5 bool
	e.kind, ok1 = a[0].(uint64)
	e.id, ok2 = a[1].(uint64)
	e.to, ok3 = a[2].(string)
	e.from, ok4 = a[3].(string)
	e.code, ok5 = a[4].(uint64)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		t.Fatalf("envelope header %#v is not [uint, uint, str, str, uint]", a[:5])
	}
	e.body = a[5]
	return e
}

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

// ---------------------------------------------------------------------------
// Handshake.

func TestConformanceHandshakeNoSecret(t *testing.T) {
	s := startServer(t, wire.Config{})
	c := dialRaw(t, s.addr)
	w := c.handshake("", nil)
	if got := strField(t, w, "addr"); got != s.addr {
		t.Fatalf("welcome addr %q, want the server's listen address %q", got, s.addr)
	}
	c.write(envFrame(kindAsk, 1, "Master", "", codeAppStatusRequest, appStatusBody(knownAppID)))
	expectKnownAppInfo(t, c.readEnvelope(), 1)
}

func TestConformanceHandshakeSecret(t *testing.T) {
	secret := []byte("cluster secret")
	s := startServer(t, wire.Config{Secret: secret})
	c := dialRaw(t, s.addr)
	c.handshake("", secret) // checks the acceptor's proof too
	c.write(envFrame(kindAsk, 1, "Master", "", codeAppStatusRequest, appStatusBody(knownAppID)))
	expectKnownAppInfo(t, c.readEnvelope(), 1)
}

func TestConformanceHandshakeWrongSecret(t *testing.T) {
	secret := []byte("cluster secret")
	s := startServer(t, wire.Config{Secret: secret})
	for _, tc := range []struct {
		name   string
		secret []byte // nil: send no proof
		err    string
	}{
		{"wrong secret", []byte("not the secret"), "authentication failed: wrong secret"},
		{"no proof", nil, "authentication required: this node has a secret and the peer sent no proof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, s.addr)
			nd := testNonce(0)
			c.write(helloFrame(1, "", nd))
			w := c.readMap("welcome")
			na := binField(t, w, "nonce")
			if len(na) != 32 {
				t.Fatalf("welcome nonce is %d bytes", len(na))
			}
			// The acceptor's proof is made with its secret, not ours.
			if p := binField(t, w, "proof"); len(p) != 32 || (tc.secret != nil && hmac.Equal(p, hmacProof(tc.secret, acceptorLabel, nd, na))) {
				t.Fatalf("acceptor proof %x", p)
			}
			var proof []byte
			if tc.secret != nil {
				proof = hmacProof(tc.secret, dialerLabel, na, nd)
			}
			c.write(proofFrame(proof))
			r := c.readMap("result")
			if boolField(t, r, "ok") {
				t.Fatal("result ok with a wrong proof")
			}
			if got := strField(t, r, "error"); got != tc.err {
				t.Fatalf("result error %q, want %q", got, tc.err)
			}
			c.expectClosed()
		})
	}
	if got := s.log(); len(got) != 0 {
		t.Fatalf("handled %v before any successful handshake", got)
	}
}

func TestConformanceHandshakeVersionMismatch(t *testing.T) {
	s := startServer(t, wire.Config{})
	c := dialRaw(t, s.addr)
	c.write(helloFrame(2, "", testNonce(0)))
	w := c.readMap("welcome")
	if v := uintField(t, w, "version"); v != 1 {
		t.Fatalf("welcome version %d, want 1", v)
	}
	e := strField(t, w, "error")
	if !strings.Contains(e, "version 2") {
		t.Fatalf("welcome error %q does not name version 2", e)
	}
	c.expectClosed()
}

func TestConformanceHandshakeRefusals(t *testing.T) {
	s := startServer(t, wire.Config{})
	t.Run("bad magic", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		c.write(frame(cat(mMap(4),
			mStr("magic"), mStr("spark"),
			mStr("version"), mUint(1),
			mStr("addr"), mStr(""),
			mStr("nonce"), mBin(testNonce(0)))))
		c.expectClosed()
	})
	t.Run("short nonce", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		c.write(helloFrame(1, "", testNonce(0)[:16]))
		w := c.readMap("welcome")
		if got, want := strField(t, w, "error"), "nonce is 16 bytes, want 32"; got != want {
			t.Fatalf("welcome error %q, want %q", got, want)
		}
		c.expectClosed()
	})
	t.Run("bad listen address", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		c.write(helloFrame(1, "no-port", testNonce(0)))
		w := c.readMap("welcome")
		if got := strField(t, w, "error"); !strings.HasPrefix(got, `listen address "no-port": `) {
			t.Fatalf("welcome error %q", got)
		}
		c.expectClosed()
	})
	t.Run("envelope before handshake", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		c.write(envFrame(kindSend, 0, "Master", "", codeHeartbeat, heartbeatBody("early")))
		c.expectClosed()
		// Nothing was dispatched: the next client's ask is the first
		// message the endpoint handles.
		c2 := connect(t, s)
		c2.write(envFrame(kindAsk, 1, "Master", "", codeAppStatusRequest, appStatusBody(unknownAppID)))
		expectError(t, c2.readEnvelope(), 1, api.CodeNotFound)
		if got, want := s.log(), []string{"AppStatusRequest " + unknownAppID}; !slices.Equal(got, want) {
			t.Fatalf("handled %q, want %q", got, want)
		}
	})
}

func TestConformanceHandshakeTimeout(t *testing.T) {
	s := startServer(t, wire.Config{HandshakeTimeout: 100 * time.Millisecond})
	c := dialRaw(t, s.addr)
	c.expectClosed() // no hello within the handshake timeout
}

// ---------------------------------------------------------------------------
// Envelopes.

func TestConformanceAskUnknownApp(t *testing.T) {
	s := startServer(t, wire.Config{})
	c := connect(t, s)
	c.write(envFrame(kindAsk, 42, "Master", "", codeAppStatusRequest, appStatusBody(unknownAppID)))
	body := expectError(t, c.readEnvelope(), 42, api.CodeNotFound)
	if got, want := strField(t, body, "message"), "application "+unknownAppID+" not found"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	if body.has("detail") {
		t.Fatalf("error body keys %v: an empty detail must be omitted", body.keys)
	}
}

func TestConformanceAskKnownApp(t *testing.T) {
	s := startServer(t, wire.Config{})
	c := connect(t, s)
	c.write(envFrame(kindAsk, 7, "Master", "", codeAppStatusRequest, appStatusBody(knownAppID)))
	e := c.readEnvelope()
	if e.to != "" || e.from != "" {
		t.Fatalf("reply to=%q from=%q, want both empty", e.to, e.from)
	}
	expectKnownAppInfo(t, e, 7)
}

func TestConformanceUnknownTypeKeepsConnection(t *testing.T) {
	s := startServer(t, wire.Config{})
	c := connect(t, s)
	c.write(envFrame(kindAsk, 1, "Master", "", 999, cat(mMap(1), mStr("x"), mUint(1))))
	body := expectError(t, c.readEnvelope(), 1, wire.CodeUnknownType)
	if got := strField(t, body, "message"); !strings.Contains(got, "999") {
		t.Fatalf("message %q does not name the type code", got)
	}
	// The connection stays usable.
	c.write(envFrame(kindAsk, 2, "Master", "", codeAppStatusRequest, appStatusBody(knownAppID)))
	expectKnownAppInfo(t, c.readEnvelope(), 2)
}

func TestConformanceBadMessageKeepsConnection(t *testing.T) {
	s := startServer(t, wire.Config{})
	c := connect(t, s)
	// A str where the AppStatusRequest map belongs.
	c.write(envFrame(kindAsk, 1, "Master", "", codeAppStatusRequest, mStr(knownAppID)))
	expectError(t, c.readEnvelope(), 1, wire.CodeBadMessage)
	c.write(envFrame(kindAsk, 2, "Master", "", codeAppStatusRequest, appStatusBody(knownAppID)))
	expectKnownAppInfo(t, c.readEnvelope(), 2)
	if got, want := s.log(), []string{"AppStatusRequest " + knownAppID}; !slices.Equal(got, want) {
		t.Fatalf("handled %q, want %q", got, want)
	}
}

func TestConformanceNoEndpoint(t *testing.T) {
	s := startServer(t, wire.Config{})
	c := connect(t, s)
	c.write(envFrame(kindAsk, 3, "Nobody", "", codeAppStatusRequest, appStatusBody(knownAppID)))
	body := expectError(t, c.readEnvelope(), 3, wire.CodeNoEndpoint)
	if got := strField(t, body, "message"); !strings.Contains(got, `"Nobody"`) {
		t.Fatalf("message %q does not name the endpoint", got)
	}
	// Endpoint names are case-sensitive.
	c.write(envFrame(kindAsk, 4, "master", "", codeAppStatusRequest, appStatusBody(knownAppID)))
	expectError(t, c.readEnvelope(), 4, wire.CodeNoEndpoint)
}

func TestConformanceSendThenAskInOrder(t *testing.T) {
	s := startServer(t, wire.Config{})
	c := connect(t, s)
	// Three sends and an ask, in one write and in separate ones.
	c.write(
		envFrame(kindSend, 0, "Master", "Worker", codeHeartbeat, heartbeatBody("w1")),
		envFrame(kindSend, 0, "Master", "Worker", codeHeartbeat, heartbeatBody("w2")),
	)
	c.write(envFrame(kindSend, 0, "Master", "Worker", codeHeartbeat, heartbeatBody("w3")))
	c.write(envFrame(kindAsk, 9, "Master", "", codeAppStatusRequest, appStatusBody(unknownAppID)))
	// A send is never answered: the first frame back answers the ask.
	expectError(t, c.readEnvelope(), 9, api.CodeNotFound)
	want := []string{"Heartbeat w1", "Heartbeat w2", "Heartbeat w3", "AppStatusRequest " + unknownAppID}
	if got := s.log(); !slices.Equal(got, want) {
		t.Fatalf("handled %q, want %q", got, want)
	}
}

func TestConformanceAnswersMatchedByID(t *testing.T) {
	s := startServer(t, wire.Config{})
	c := connect(t, s)
	ids := []uint64{5, 1 << 40, 3}
	for _, id := range ids {
		c.write(envFrame(kindAsk, id, "Master", "", codeAppStatusRequest, appStatusBody(knownAppID)))
	}
	for _, id := range ids { // one endpoint answers in order
		expectKnownAppInfo(t, c.readEnvelope(), id)
	}
}

func TestConformanceIntegerEncodings(t *testing.T) {
	s := startServer(t, wire.Config{})
	c := dialRaw(t, s.addr)
	// version as uint16.
	nd := testNonce(0)
	c.write(frame(cat(mMap(4),
		mStr("magic"), mStr("aloha"),
		mStr("version"), mUint16(1),
		mStr("addr"), mStr(""),
		mStr("nonce"), mBin(nd))))
	if e := strField(t, c.readMap("welcome"), "error"); e != "" {
		t.Fatalf("welcome error %q", e)
	}
	c.write(proofFrame(nil))
	if r := c.readMap("result"); !boolField(t, r, "ok") {
		t.Fatalf("result %v", r.vals)
	}
	// kind as uint8, id as uint64, type as uint32; then kind as int8, id as
	// uint32, type as uint16.
	c.write(frame(cat(mArr(6), mUint8(kindAsk), mUint64(11), mStr("Master"), mStr(""), mUint32(codeAppStatusRequest), appStatusBody(knownAppID))))
	expectKnownAppInfo(t, c.readEnvelope(), 11)
	c.write(frame(cat(mArr(6), mInt8(kindAsk), mUint32(12), mStr("Master"), mStr(""), mUint16(codeAppStatusRequest), appStatusBody(unknownAppID))))
	expectError(t, c.readEnvelope(), 12, api.CodeNotFound)
}

func TestConformanceMalformedFramesClose(t *testing.T) {
	const maxFrame = 1024
	s := startServer(t, wire.Config{MaxFrameSize: maxFrame})
	ask := cat(mArr(6), mUint(kindAsk), mUint(1), mStr("Master"), mStr(""), mUint(codeAppStatusRequest), appStatusBody(knownAppID))
	for _, tc := range []struct {
		name  string
		bytes []byte
	}{
		{"zero length", []byte{0, 0, 0, 0}},
		{"over the maximum frame size", binary.BigEndian.AppendUint32(nil, maxFrame+1)},
		{"invalid msgpack", frame([]byte{0xc1})},
		{"trailing bytes", frame(cat(ask, mNil()))},
		{"five elements", frame(cat(mArr(5), mUint(kindSend), mUint(0), mStr("Master"), mStr(""), mUint(0)))},
		{"not an array", frame(cat(mMap(0)))},
		{"kind 0", frame(cat(mArr(6), mUint(0), mUint(1), mStr("Master"), mStr(""), mUint(0), mNil()))},
		{"kind 5", frame(cat(mArr(6), mUint(5), mUint(1), mStr("Master"), mStr(""), mUint(0), mNil()))},
		{"type over 65535", frame(cat(mArr(6), mUint(kindAsk), mUint(1), mStr("Master"), mStr(""), mUint(65536), mNil()))},
		{"to not a string", frame(cat(mArr(6), mUint(kindAsk), mUint(1), mUint(1), mStr(""), mUint(0), mNil()))},
		{"truncated body", frame(ask)[:20]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, s)
			c.write(tc.bytes)
			if tc.name == "truncated body" {
				if err := c.nc.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			c.expectClosed()
		})
	}
	// A frame of exactly the maximum size is accepted: a send padded with an
	// unknown key.
	c := connect(t, s)
	body := cat(mArr(6), mUint(kindSend), mUint(0), mStr("Master"), mStr(""), mUint(codeHeartbeat),
		mMap(2), mStr("workerId"), mStr("big"), mStr("pad"))
	pad := maxFrame - len(body) - 3 // str16 header
	body = cat(body, []byte{0xda, byte(pad >> 8), byte(pad)}, bytes.Repeat([]byte{'x'}, pad))
	if len(body) != maxFrame {
		t.Fatalf("padded body is %d bytes", len(body))
	}
	c.write(frame(body))
	c.write(envFrame(kindAsk, 2, "Master", "", codeAppStatusRequest, appStatusBody(knownAppID)))
	expectKnownAppInfo(t, c.readEnvelope(), 2)
	if got := s.log(); !slices.Contains(got, "Heartbeat big") {
		t.Fatalf("handled %q: the maximum-size send was lost", got)
	}
}

func TestConformanceIdleTimeout(t *testing.T) {
	s := startServer(t, wire.Config{IdleTimeout: 100 * time.Millisecond})
	c := connect(t, s)
	c.expectClosed()
}

// TestConformanceAcceptorAsksBack checks that the acceptor files the
// connection under the dialer's announced listen address and uses it, not a
// new connection, to reach the dialer.
func TestConformanceAcceptorAsksBack(t *testing.T) {
	s := startServer(t, wire.Config{})
	// A listen address nobody accepts on: if the node dialed it instead of
	// reusing the connection, the ask would never reach us.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	myAddr := ln.Addr().String()

	c := dialRaw(t, s.addr)
	c.handshake(myAddr, nil)
	// The acceptor files the connection just after it has sent the result;
	// once it answers an ask on the connection, it has done so.
	c.write(envFrame(kindAsk, 1, "Master", "", codeAppStatusRequest, appStatusBody(knownAppID)))
	expectKnownAppInfo(t, c.readEnvelope(), 1)

	type result struct {
		reply any
		err   error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	go func() {
		r, err := s.master.Ask(ctx, wire.Address{Host: myAddr, Name: "Client"}, &api.MasterStatusRequest{})
		done <- result{r, err}
	}()

	e := c.readEnvelope()
	if e.kind != kindAsk || e.to != "Client" || e.from != "Master" || e.code != codeMasterStatusReq {
		t.Fatalf("got envelope kind=%d to=%q from=%q type=%d, want an ask from Master to Client of type %d",
			e.kind, e.to, e.from, e.code, codeMasterStatusReq)
	}
	if m := asMap(t, "MasterStatusRequest", e.body); len(m.keys) != 0 {
		t.Fatalf("MasterStatusRequest body has keys %v, want the empty map", m.keys)
	}
	c.write(envFrame(kindReply, e.id, "", "", codeMasterInfo, cat(mMap(2),
		mStr("url"), mStr("aloha://"+myAddr), mStr("status"), mStr("ALIVE"))))

	var r result
	select {
	case r = <-done:
	case <-time.After(ioTimeout):
		t.Fatal("the acceptor's ask got no answer")
	}
	if r.err != nil {
		t.Fatalf("Ask: %v", r.err)
	}
	info, ok := r.reply.(*api.MasterInfo)
	if !ok || info.URL != "aloha://"+myAddr || info.State != api.MasterAlive {
		t.Fatalf("Ask reply %#v", r.reply)
	}

	// Messages from this connection come from our announced address.
	got := make(chan wire.Address, 1)
	ep, err := s.node.Register("Probe", wire.HandlerFunc(func(m *wire.Message) (any, error) {
		got <- m.From
		return nil, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ep.Close)
	c.write(envFrame(kindAsk, 2, "Probe", "Client", codeHeartbeat, heartbeatBody("x")))
	if e := c.readEnvelope(); e.kind != kindReply || e.id != 2 || e.code != 0 || e.body != nil {
		t.Fatalf("got %+v, want an empty reply (type 0, nil body)", e)
	}
	if from := <-got; from != (wire.Address{Host: myAddr, Name: "Client"}) {
		t.Fatalf("message from %v, want aloha://%s/Client", from, myAddr)
	}
	c.barrier() // before the Probe endpoint closes
}

// ---------------------------------------------------------------------------
// The worked examples of docs/wire.md.

const docPath = "../docs/wire.md"

// docSecret is the secret of the document's example 12.2.
const docSecret = "s3cret"

// docFrames returns the byte listings of the document that are marked
// "; frame: NAME", by name.
func docFrames(t *testing.T) (map[string][]byte, string) {
	t.Helper()
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	frames := map[string][]byte{}
	var name string
	var buf []byte
	inBlock, first := false, false
	for i, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			if inBlock && name != "" {
				if _, dup := frames[name]; dup {
					t.Fatalf("%s: frame %q listed twice", docPath, name)
				}
				frames[name] = buf
			}
			inBlock, first, name, buf = !inBlock, true, "", nil
			continue
		}
		if !inBlock {
			continue
		}
		if first {
			first = false
			if n, ok := strings.CutPrefix(line, "; frame: "); ok {
				name = strings.TrimSpace(n)
				continue
			}
		}
		if name == "" {
			continue
		}
		code, _, _ := strings.Cut(line, ";")
		for _, tok := range strings.Fields(code) {
			b, err := hex.DecodeString(tok)
			if err != nil || len(b) != 1 {
				t.Fatalf("%s:%d: %q is not a hex byte", docPath, i+1, tok)
			}
			buf = append(buf, b[0])
		}
	}
	if inBlock {
		t.Fatalf("%s: unterminated code block", docPath)
	}
	return frames, doc
}

func TestConformanceDocExamples(t *testing.T) {
	frames, doc := docFrames(t)
	get := func(name string) []byte {
		t.Helper()
		b, ok := frames[name]
		if !ok {
			t.Fatalf("%s has no listing %q", docPath, name)
		}
		return b
	}
	decode := func(name string) any {
		t.Helper()
		b := get(name)
		if len(b) < 5 || int(binary.BigEndian.Uint32(b)) != len(b)-4 {
			t.Fatalf("listing %q: length prefix does not match its %d bytes", name, len(b))
		}
		v, err := decodeOne(b[4:])
		if err != nil {
			t.Fatalf("listing %q: %v", name, err)
		}
		return v
	}
	for name := range frames {
		decode(name)
	}

	// The document's welcome against a live one: same keys in the same
	// order, same values except the nonce and the address.
	sameWelcome := func(t *testing.T, live *mpMap, docName string, s *confServer) {
		t.Helper()
		want := asMap(t, docName, decode(docName))
		if !slices.Equal(live.keys, want.keys) {
			t.Fatalf("welcome keys %v, the document has %v", live.keys, want.keys)
		}
		if uintField(t, live, "version") != uintField(t, want, "version") ||
			strField(t, live, "error") != strField(t, want, "error") {
			t.Fatalf("welcome %v, the document has %v", live.vals, want.vals)
		}
		if strField(t, live, "addr") != s.addr {
			t.Fatalf("welcome addr %q, want %q", strField(t, live, "addr"), s.addr)
		}
		if len(binField(t, live, "nonce")) != 32 || len(binField(t, want, "nonce")) != 32 {
			t.Fatal("nonces must be 32 bytes")
		}
	}
	exact := func(t *testing.T, got []byte, docName string) {
		t.Helper()
		if want := get(docName); !bytes.Equal(got, want) {
			t.Fatalf("server sent\n% x\nthe document's %q is\n% x", got, docName, want)
		}
	}

	t.Run("handshake without a secret, send, ask and error reply", func(t *testing.T) {
		s := startServer(t, wire.Config{})
		c := dialRaw(t, s.addr)
		c.write(get("hello"))
		sameWelcome(t, c.readMap("welcome"), "welcome", s)
		if p := binField(t, asMap(t, "welcome", decode("welcome")), "proof"); p != nil {
			t.Fatalf("the document's welcome without a secret has proof %x", p)
		}
		c.write(get("proof"))
		raw, _ := c.readFrame()
		exact(t, raw, "result")
		c.established()
		c.write(get("send"), get("ask"))
		raw, _ = c.readFrame()
		exact(t, raw, "error-reply")
		want := []string{"Heartbeat worker-20190311221500-10.0.0.5-7078", "AppStatusRequest " + unknownAppID}
		if got := s.log(); !slices.Equal(got, want) {
			t.Fatalf("handled %q, want %q", got, want)
		}
	})

	t.Run("handshake with a secret", func(t *testing.T) {
		if !strings.Contains(doc, `"`+docSecret+`"`) {
			t.Fatalf("%s does not name the secret %q", docPath, docSecret)
		}
		secret := []byte(docSecret)
		hello := asMap(t, "hello-secret", decode("hello-secret"))
		welcome := asMap(t, "welcome-secret", decode("welcome-secret"))
		proof := asMap(t, "proof-secret", decode("proof-secret"))
		nd, na := binField(t, hello, "nonce"), binField(t, welcome, "nonce")
		if got, want := binField(t, welcome, "proof"), hmacProof(secret, acceptorLabel, nd, na); !bytes.Equal(got, want) {
			t.Fatalf("the document's acceptor proof is %x, want %x", got, want)
		}
		if got, want := binField(t, proof, "proof"), hmacProof(secret, dialerLabel, na, nd); !bytes.Equal(got, want) {
			t.Fatalf("the document's dialer proof is %x, want %x", got, want)
		}
		for _, p := range []string{
			hex.EncodeToString(hmacProof(secret, acceptorLabel, nd, na)),
			hex.EncodeToString(hmacProof(secret, dialerLabel, na, nd)),
		} {
			if !strings.Contains(doc, p) {
				t.Fatalf("%s does not give the proof %s", docPath, p)
			}
		}

		s := startServer(t, wire.Config{Secret: secret})
		for _, right := range []bool{true, false} {
			c := dialRaw(t, s.addr)
			c.write(get("hello-secret"))
			live := c.readMap("welcome")
			sameWelcome(t, live, "welcome-secret", s)
			liveNa := binField(t, live, "nonce")
			if got, want := binField(t, live, "proof"), hmacProof(secret, acceptorLabel, nd, liveNa); !hmac.Equal(got, want) {
				t.Fatalf("acceptor proof %x, want %x", got, want)
			}
			key := secret
			if !right {
				key = []byte("another secret")
			}
			c.write(proofFrame(hmacProof(key, dialerLabel, liveNa, nd)))
			raw, _ := c.readFrame()
			if right {
				exact(t, raw, "result")
			} else {
				exact(t, raw, "result-wrong-secret")
				c.expectClosed()
			}
		}
	})

	t.Run("version mismatch", func(t *testing.T) {
		s := startServer(t, wire.Config{})
		c := dialRaw(t, s.addr)
		c.write(get("hello-v2"))
		raw, _ := c.readFrame()
		exact(t, raw, "welcome-v2")
		c.expectClosed()
	})
}

// apiSamples holds one value of every message type of the api registry, by
// code, so that the document's tables can be checked against the types.
var apiSamples = map[uint16]any{
	100: api.RegisterWorker{},
	101: api.WorkerRegistered{},
	102: api.Heartbeat{},
	103: api.AppStateChanged{},
	104: api.WorkerSchedulerState{},
	110: api.ReconnectWorker{},
	111: api.MasterChanged{},
	112: api.LaunchApp{},
	113: api.KillApp{},
	120: api.SubmitApp{},
	121: api.SubmitAppResponse{},
	122: api.KillAppRequest{},
	123: api.KillAppResponse{},
	124: api.AppStatusRequest{},
	125: api.AppInfo{},
	126: api.ListAppsRequest{},
	127: api.AppList{},
	128: api.ListWorkersRequest{},
	129: api.WorkerList{},
	130: api.MasterStatusRequest{},
	131: api.MasterInfo{},
	132: api.EventsRequest{},
	133: api.EventBatch{},
	140: api.ReadLogRequest{},
	141: api.LogChunk{},
}

// docSection returns the text of doc from the heading start up to the next
// heading next.
func docSection(t *testing.T, doc, start, next string) string {
	t.Helper()
	i := strings.Index(doc, start)
	if i < 0 {
		t.Fatalf("%s has no heading %q", docPath, start)
	}
	j := strings.Index(doc[i:], next)
	if j < 0 {
		t.Fatalf("%s has no heading %q after %q", docPath, next, start)
	}
	return doc[i : i+j]
}

// structFields lists the msgpack keys of a struct type in order, a "?"
// marking optional (omitempty) ones, and the named struct types its fields
// hold.
func structFields(t reflect.Type) (keys []string, nested []reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("msgpack"), ",")
		if name == "" || name == "-" {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "omitempty") {
			name += "?"
		}
		keys = append(keys, name)
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			nested = append(nested, ft)
		}
	}
	return keys, nested
}

// TestConformanceDocMessageTables checks the document's tables of message
// types and fields against the api registry and the message types.
func TestConformanceDocMessageTables(t *testing.T) {
	_, doc := docFrames(t)
	codes := api.NewRegistry().Codes()

	// 11.1: code and type name of every message.
	rowRe := regexp.MustCompile("(?m)^\\| (\\d+) +\\| `([A-Za-z]+)` ")
	listed := map[uint16]string{}
	for _, m := range rowRe.FindAllStringSubmatch(docSection(t, doc, "### 11.1 ", "### 11.2 "), -1) {
		var code uint16
		fmt.Sscan(m[1], &code)
		listed[code] = "api." + m[2]
	}
	if !maps.Equal(listed, codes) {
		t.Errorf("message types in %s:\n%v\nin the api registry:\n%v", docPath, listed, codes)
	}

	// 11.2: the fields of every record, in order, with their optionality.
	headRe := regexp.MustCompile(`\*{1,2}([A-Z][A-Za-z]+)(?: \(\d+\))?\*{1,2}`)
	fields := map[string][]string{}
	var current []string
	for line := range strings.Lines(docSection(t, doc, "### 11.2 ", "### 11.3 ")) {
		switch {
		case strings.HasPrefix(line, "*"):
			current = nil
			for _, m := range headRe.FindAllStringSubmatch(line, -1) {
				current = append(current, m[1])
				fields[m[1]] = []string{}
			}
		case strings.HasPrefix(line, "| `"):
			cells := strings.Split(line, "|")
			key := strings.Trim(strings.TrimSpace(cells[1]), "`")
			if strings.Contains(cells[len(cells)-2], "*opt*") {
				key += "?"
			}
			for _, name := range current {
				fields[name] = append(fields[name], key)
			}
		}
	}
	seen := map[reflect.Type]bool{}
	var check func(reflect.Type)
	check = func(rt reflect.Type) {
		if seen[rt] {
			return
		}
		seen[rt] = true
		keys, nested := structFields(rt)
		got, ok := fields[rt.Name()]
		switch {
		case !ok:
			t.Errorf("%s does not describe %s (fields %v)", docPath, rt.Name(), keys)
		case !slices.Equal(got, keys):
			t.Errorf("%s: fields of %s are %v, the type has %v (\"?\": optional)", docPath, rt.Name(), got, keys)
		}
		for _, n := range nested {
			check(n)
		}
	}
	for code, name := range codes {
		sample, ok := apiSamples[code]
		if !ok {
			t.Errorf("apiSamples has no type for code %d (%s)", code, name)
			continue
		}
		if got := reflect.TypeOf(sample).String(); got != name {
			t.Errorf("apiSamples[%d] is %s, the registry has %s", code, got, name)
			continue
		}
		check(reflect.TypeOf(sample))
	}
}
