package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// scriptedConn is a net.Conn that reads a fixed script and discards what
// is written to it.
type scriptedConn struct {
	in *bytes.Reader
}

func (c *scriptedConn) Read(b []byte) (int, error)       { return c.in.Read(b) }
func (c *scriptedConn) Write(b []byte) (int, error)      { return len(b), nil }
func (c *scriptedConn) Close() error                     { return nil }
func (c *scriptedConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptedConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptedConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptedConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzFrame feeds arbitrary bytes to the frame reader and the envelope
// decoder: they must never panic, and whatever decodes must re-encode to a
// frame that decodes the same way.
func FuzzFrame(f *testing.F) {
	reg := testRegistry()
	for _, env := range []*envelope{
		{kind: kindAsk, id: 1, to: "echo", from: "x", body: &ping{N: 5, Text: "hi"}},
		{kind: kindSend, to: "echo", body: &pong{N: -1}},
		{kind: kindReply, id: 9, body: nil},
		{kind: kindError, id: 3, body: &RemoteError{Code: "not_found", Message: "no such app"}},
	} {
		fr, err := reg.encodeEnvelope(env, 1<<20)
		if err != nil {
			f.Fatal(err)
		}
		whole := append([]byte(nil), fr.buf.Bytes()...)
		f.Add(whole)
		f.Add(whole[:len(whole)-1]) // truncated
		fr.release()
	}
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 3, 0x93, 0x01, 0x02})
	f.Add(frameOf([]byte{0x96, 0x02, 0x01, 0xa1, 'e', 0xa0, 0xcd, 0x03, 0xe8, 0x80})) // unknown type 1000
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		for {
			body, err := readFrame(br, 1<<16)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ErrMalformedFrame) && !errors.Is(err, ErrFrameTooLarge) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("readFrame error %v of an unexpected kind", err)
				}
				return
			}
			env, err := reg.decodeEnvelope(body)
			if err != nil {
				if !errors.Is(err, ErrMalformedFrame) {
					t.Fatalf("decodeEnvelope error %v is not ErrMalformedFrame", err)
				}
				return
			}
			if env.bodyErr != nil {
				continue
			}
			out, err := reg.encodeEnvelope(env, 1<<20)
			if err != nil {
				t.Fatalf("re-encode %#v: %v", env, err)
			}
			again, err := reg.decodeEnvelope(out.buf.Bytes()[frameHeaderLen:])
			out.release()
			if err != nil {
				t.Fatalf("re-decode: %v", err)
			}
			if again.kind != env.kind || again.id != env.id || again.to != env.to || again.from != env.from {
				t.Fatalf("round trip changed the header: %+v -> %+v", env, again)
			}
		}
	})
}

// FuzzHandshake plays arbitrary bytes as the dialer's side of a handshake
// against the acceptor: it must end with an error or a success, never a
// panic, with and without a secret.
func FuzzHandshake(f *testing.F) {
	hello, _ := encodeValueFrame(&helloMsg{Magic: handshakeMagic, Version: ProtocolVersion, Addr: "127.0.0.1:7077", Nonce: make([]byte, nonceLen)}, maxHandshakeSize)
	proofFrame, _ := encodeValueFrame(&proofMsg{Proof: make([]byte, 32)}, maxHandshakeSize)
	f.Add(append(append([]byte(nil), hello.buf.Bytes()...), proofFrame.buf.Bytes()...), false)
	f.Add(append(append([]byte(nil), hello.buf.Bytes()...), proofFrame.buf.Bytes()...), true)
	f.Add(hello.buf.Bytes(), false)
	f.Add([]byte{0, 0, 0, 1, 0xc0}, true)
	f.Add([]byte{0, 0, 16, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, withSecret bool) {
		var secret []byte
		if withSecret {
			secret = []byte("secret")
		}
		server := &scriptedConn{in: bytes.NewReader(data)}
		addr, err := acceptHandshake(server, bufio.NewReader(server), "127.0.0.1:1", secret, nil)
		if err == nil {
			if withSecret {
				t.Fatalf("handshake with a secret succeeded on fuzz input (addr %q)", addr)
			}
			if addr != "" && checkHostPort(addr) != nil {
				t.Fatalf("accepted an invalid listen address %q", addr)
			}
		}
	})
}
