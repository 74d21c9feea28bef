package wire

import (
	"testing"
	"time"
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
