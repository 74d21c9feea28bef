package wire_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

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
