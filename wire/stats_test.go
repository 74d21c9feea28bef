package wire

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/alohasched/aloha/internal/testutil"
)

// waitStats waits until f accepts the node's counters.
func waitStats(t *testing.T, n *Node, f func(Stats) bool) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, func() error {
		if s := n.Stats(); !f(s) {
			return fmt.Errorf("stats = %+v", s)
		}
		return nil
	})
}

func TestStatsCountFrames(t *testing.T) {
	srv := startNode(t, Config{})
	srv.Register("echo", echoHandler())
	cli := newClient(t, Config{})
	const asks = 10
	for i := range asks {
		if _, err := cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "echo"}, &ping{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	// One request and one reply per ask; handshake frames do not count.
	for name, n := range map[string]*Node{"client": cli, "server": srv} {
		waitStats(t, n, func(s Stats) bool { return s.FramesRead == asks && s.FramesWritten == asks })
		if s := n.Stats(); s.HandshakeFailures != 0 || s.DialFailures != 0 {
			t.Errorf("%s Stats() = %+v, want no failures", name, s)
		}
	}
	cli.Close()
	waitStats(t, cli, func(s Stats) bool { return s.ClosedLocal == 1 })
	waitStats(t, srv, func(s Stats) bool { return s.ClosedEOF == 1 })
}

func TestStatsCountFailures(t *testing.T) {
	srv := startNode(t, Config{Secret: []byte("s3cret")})
	srv.Register("echo", echoHandler())

	t.Run("handshake", func(t *testing.T) {
		cli := newClient(t, Config{Secret: []byte("guess")})
		if _, err := cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: srv.Addr(), Name: "echo"}, &ping{}); err == nil {
			t.Fatal("Ask with the wrong secret succeeded")
		}
		waitStats(t, cli, func(s Stats) bool { return s.HandshakeFailures == 1 })
		waitStats(t, srv, func(s Stats) bool { return s.HandshakeFailures == 1 })
		// A failed handshake is not an established connection closing.
		if s := srv.Stats(); s.ClosedIO+s.ClosedEOF+s.ClosedProtocol+s.ClosedLocal != 0 {
			t.Errorf("server Stats() = %+v, want no connection counted as closed", s)
		}
	})

	t.Run("malformed frame", func(t *testing.T) {
		p := dialRaw(t, srv.Addr(), "", []byte("s3cret"))
		if _, err := p.nc.Write(frameOf([]byte{0xc1, 0xc1})); err != nil {
			t.Fatal(err)
		}
		p.expectClosed(t)
		waitStats(t, srv, func(s Stats) bool { return s.ClosedProtocol == 1 && s.FramesRead == 1 })
	})

	t.Run("dial", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cli := newClient(t, Config{})
		if _, err := cli.Ask(ctxTimeout(t, 5*time.Second), Address{Host: addr, Name: "echo"}, &ping{}); err == nil {
			t.Fatal("Ask to a closed port succeeded")
		}
		if s := cli.Stats(); s.DialFailures != 1 || s.HandshakeFailures != 0 {
			t.Fatalf("Stats() = %+v, want one dial failure", s)
		}
	})
}
