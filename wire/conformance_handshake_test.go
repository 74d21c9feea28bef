package wire_test

import (
	"crypto/hmac"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

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
