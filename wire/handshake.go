package wire

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// ProtocolVersion is the version of the frame and envelope format this
// package speaks. Peers must speak the same version.
const ProtocolVersion = 1

// The handshake is four frames, each one msgpack map, before any envelope:
//
//	dialer   -> acceptor  hello   {magic:"aloha", version, addr, nonce}
//	acceptor -> dialer    welcome {version, addr, nonce, proof, error}
//	dialer   -> acceptor  proof   {proof}
//	acceptor -> dialer    result  {ok, error}
//
// Nonces are 32 random bytes. With a shared secret, the acceptor's proof is
// HMAC-SHA256(secret, "aloha-acceptor" || 0x00 || dialer nonce || acceptor nonce)
// and the dialer's is HMAC-SHA256(secret, "aloha-dialer" || 0x00 || acceptor
// nonce || dialer nonce); without one, both proofs are empty. Each side
// checks the other's proof in constant time, so the secret never crosses
// the wire and neither side talks to a peer that does not know it.
const (
	handshakeMagic   = "aloha"
	nonceLen         = 32
	maxHandshakeSize = 4096
	acceptorLabel    = "aloha-acceptor"
	dialerLabel      = "aloha-dialer"
)

type helloMsg struct {
	Magic   string `msgpack:"magic"`
	Version int    `msgpack:"version"`
	Addr    string `msgpack:"addr"`
	Nonce   []byte `msgpack:"nonce"`
}

type welcomeMsg struct {
	Version int    `msgpack:"version"`
	Addr    string `msgpack:"addr"`
	Nonce   []byte `msgpack:"nonce"`
	Proof   []byte `msgpack:"proof"`
	Error   string `msgpack:"error"`
}

type proofMsg struct {
	Proof []byte `msgpack:"proof"`
}

type resultMsg struct {
	OK    bool   `msgpack:"ok"`
	Error string `msgpack:"error"`
}

func proof(secret []byte, label string, first, second []byte) []byte {
	if len(secret) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write(first)
	m.Write(second)
	return m.Sum(nil)
}

func newNonce() []byte {
	b := make([]byte, nonceLen)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("wire: no randomness for a nonce: %v", err))
	}
	return b
}

func writeHandshake(nc net.Conn, v any) error {
	f, err := encodeValueFrame(v, maxHandshakeSize)
	if err != nil {
		return err
	}
	defer f.release()
	_, err = nc.Write(f.buf.Bytes())
	return err
}

func readHandshake(br *bufio.Reader, v any) error {
	body, err := readFrame(br, maxHandshakeSize)
	if err != nil {
		return err
	}
	if err := decodeHandshake(body, v); err != nil {
		return fmt.Errorf("%w: handshake message: %v", ErrMalformedFrame, err)
	}
	return nil
}

// decodeHandshake decodes one handshake message strictly: a map and
// nothing after it.
func decodeHandshake(body []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("undecodable: %v", r)
		}
	}()
	rd := bytes.NewReader(body)
	dec := msgpack.NewDecoder(rd)
	c, err := dec.PeekCode()
	if err != nil {
		return err
	}
	if !msgpcode.IsFixedMap(c) && c != msgpcode.Map16 && c != msgpcode.Map32 {
		return fmt.Errorf("not a map (first byte 0x%02x)", c)
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if rd.Len() != 0 {
		return fmt.Errorf("%d trailing bytes", rd.Len())
	}
	return nil
}

// dialHandshake runs the dialer's side. It returns the acceptor's listen
// address. The caller bounds it with a deadline on nc.
func dialHandshake(nc net.Conn, br *bufio.Reader, ownAddr string, secret []byte) (string, error) {
	nonce := newNonce()
	if err := writeHandshake(nc, &helloMsg{Magic: handshakeMagic, Version: ProtocolVersion, Addr: ownAddr, Nonce: nonce}); err != nil {
		return "", fmt.Errorf("%w: send hello: %w", ErrHandshake, err)
	}
	var w welcomeMsg
	if err := readHandshake(br, &w); err != nil {
		return "", fmt.Errorf("%w: read welcome: %w", ErrHandshake, err)
	}
	if w.Error != "" {
		return "", fmt.Errorf("%w: peer refused: %s", ErrHandshake, w.Error)
	}
	if w.Version != ProtocolVersion {
		return "", fmt.Errorf("%w: peer speaks protocol version %d, this node speaks %d", ErrHandshake, w.Version, ProtocolVersion)
	}
	if len(w.Nonce) != nonceLen {
		return "", fmt.Errorf("%w: peer nonce is %d bytes, want %d", ErrHandshake, len(w.Nonce), nonceLen)
	}
	if len(secret) > 0 {
		want := proof(secret, acceptorLabel, nonce, w.Nonce)
		if len(w.Proof) == 0 {
			return "", fmt.Errorf("%w: peer has no secret but this node requires one", ErrUnauthenticated)
		}
		if !hmac.Equal(w.Proof, want) {
			return "", fmt.Errorf("%w: peer's secret proof is wrong", ErrUnauthenticated)
		}
	}
	if err := writeHandshake(nc, &proofMsg{Proof: proof(secret, dialerLabel, w.Nonce, nonce)}); err != nil {
		return "", fmt.Errorf("%w: send proof: %w", ErrHandshake, err)
	}
	var r resultMsg
	if err := readHandshake(br, &r); err != nil {
		return "", fmt.Errorf("%w: read result: %w", ErrHandshake, err)
	}
	if !r.OK {
		return "", fmt.Errorf("%w: peer refused: %s", ErrUnauthenticated, r.Error)
	}
	return w.Addr, nil
}

// acceptHandshake runs the acceptor's side. It returns the dialer's listen
// address ("" for a peer that does not listen). admit, when set, is called
// with that address just before the dialer is told it is accepted, so the
// connection is in service before the dialer can use it.
func acceptHandshake(nc net.Conn, br *bufio.Reader, ownAddr string, secret []byte, admit func(peerAddr string)) (string, error) {
	var h helloMsg
	if err := readHandshake(br, &h); err != nil {
		return "", fmt.Errorf("%w: read hello: %w", ErrHandshake, err)
	}
	if h.Magic != handshakeMagic {
		return "", fmt.Errorf("%w: not an aloha peer (magic %q)", ErrHandshake, h.Magic)
	}
	if h.Version != ProtocolVersion {
		reason := fmt.Sprintf("protocol version %d is not supported; this node speaks %d", h.Version, ProtocolVersion)
		_ = writeHandshake(nc, &welcomeMsg{Version: ProtocolVersion, Error: reason})
		return "", fmt.Errorf("%w: %s", ErrHandshake, reason)
	}
	if len(h.Nonce) != nonceLen {
		reason := fmt.Sprintf("nonce is %d bytes, want %d", len(h.Nonce), nonceLen)
		_ = writeHandshake(nc, &welcomeMsg{Version: ProtocolVersion, Error: reason})
		return "", fmt.Errorf("%w: %s", ErrHandshake, reason)
	}
	if h.Addr != "" {
		if err := checkHostPort(h.Addr); err != nil {
			reason := fmt.Sprintf("listen address %q: %v", h.Addr, err)
			_ = writeHandshake(nc, &welcomeMsg{Version: ProtocolVersion, Error: reason})
			return "", fmt.Errorf("%w: %s", ErrHandshake, reason)
		}
	}
	nonce := newNonce()
	w := welcomeMsg{Version: ProtocolVersion, Addr: ownAddr, Nonce: nonce, Proof: proof(secret, acceptorLabel, h.Nonce, nonce)}
	if err := writeHandshake(nc, &w); err != nil {
		return "", fmt.Errorf("%w: send welcome: %w", ErrHandshake, err)
	}
	var p proofMsg
	if err := readHandshake(br, &p); err != nil {
		return "", fmt.Errorf("%w: read proof: %w", ErrHandshake, err)
	}
	if len(secret) > 0 {
		reason := ""
		switch {
		case len(p.Proof) == 0:
			reason = "authentication required: this node has a secret and the peer sent no proof"
		case !hmac.Equal(p.Proof, proof(secret, dialerLabel, nonce, h.Nonce)):
			reason = "authentication failed: wrong secret"
		}
		if reason != "" {
			_ = writeHandshake(nc, &resultMsg{Error: reason})
			return "", fmt.Errorf("%w: %s", ErrUnauthenticated, reason)
		}
	}
	if admit != nil {
		admit(h.Addr)
	}
	if err := writeHandshake(nc, &resultMsg{OK: true}); err != nil {
		return "", fmt.Errorf("%w: send result: %w", ErrHandshake, err)
	}
	return h.Addr, nil
}
