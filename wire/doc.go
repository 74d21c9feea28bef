// Package wire is Aloha's RPC transport: length-prefixed msgpack frames over
// TCP, an authenticated handshake, named endpoints that each handle one
// message at a time, and one-way Send and request/reply Ask between them.
//
// # Usage
//
// A process creates one Node, registers its endpoints and serves a listener:
//
//	reg := wire.NewRegistry()
//	reg.MustRegister(100, (*Ping)(nil))
//	node, _ := wire.NewNode(wire.Config{Registry: reg, Secret: secret})
//	node.Register("echo", wire.HandlerFunc(func(m *wire.Message) (any, error) {
//		return m.Body, nil
//	}))
//	ln, _ := net.Listen("tcp", "127.0.0.1:0")
//	go node.Serve(ctx, ln)
//	defer node.Close()
//
// Another node (or a client that never listens) talks to it by address:
//
//	reply, err := other.Ask(ctx, wire.Address{Host: "127.0.0.1:7077", Name: "echo"}, &Ping{})
//
// # Connections
//
// A Node keeps at most one connection per peer it dials, keyed by the peer's
// listen address. The handshake carries each side's own listen address, so a
// connection opened by a peer is reused to send back to it: one connection per
// peer pair serves both directions. Connections are opened on demand, closed
// when idle for Config.IdleTimeout, and a broken one is replaced at the next
// Send or Ask. A frame that is too large, truncated or undecodable closes that
// connection only; the reason is logged once with the peer's address.
// Node.Stats counts frames each way, failed dials and handshakes, and closed
// connections by the class of their reason, for monitoring.
//
// # Endpoints
//
// Each endpoint owns a mailbox and one goroutine; its Handler sees messages
// one at a time, in arrival order, together with PeerConnected and
// PeerDisconnected notifications when it implements ConnObserver. A handler
// answers an Ask by returning a reply or an error, or later, from any
// goroutine, through Message.Defer.
//
// # Errors
//
// Ask fails with ErrTimeout when its context deadline passes, with
// ErrPeerGone as soon as the connection carrying it dies, and with a
// *RemoteError carrying the handler's error otherwise.
//
// The byte-level format is specified in docs/wire.md.
package wire
