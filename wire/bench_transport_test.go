package wire_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/rpc"
	"os"
	"sync"
	"testing"

	"github.com/alohasched/aloha/wire"
)

func benchLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startWire starts a serving wire node with endpoints "echo" (replies with
// the message it got) and "sink" (counts messages), and a client node that
// does not listen. Everything is closed when b ends.
func startWire(b *testing.B) *transport {
	b.Helper()
	reg := wire.NewRegistry()
	reg.MustRegister(benchMsgCode, (*BenchMsg)(nil))
	srv, err := wire.NewNode(wire.Config{Registry: reg, Logger: benchLogger()})
	if err != nil {
		b.Fatal(err)
	}
	sink := &sinkCounter{}
	sink.start()
	if _, err := srv.Register("echo", wire.HandlerFunc(func(m *wire.Message) (any, error) {
		return m.Body, nil
	})); err != nil {
		b.Fatal(err)
	}
	if _, err := srv.Register("sink", wire.HandlerFunc(func(m *wire.Message) (any, error) {
		sink.hit()
		return nil, nil
	})); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ctx, ln)
	}()
	cli, err := wire.NewNode(wire.Config{Registry: reg, Logger: benchLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cli.Close()
		cancel()
		srv.Close()
		<-served
	})
	host := ln.Addr().String()
	echo := wire.Address{Host: host, Name: "echo"}
	sinkAddr := wire.Address{Host: host, Name: "sink"}
	// No deadline: net/rpc has none either.
	bg := context.Background()
	t := &transport{
		name: "wire",
		ask: func(m *BenchMsg) (*BenchMsg, error) {
			r, err := cli.Ask(bg, echo, m)
			if err != nil {
				return nil, err
			}
			rm, ok := r.(*BenchMsg)
			if !ok {
				return nil, fmt.Errorf("wire: reply is %T", r)
			}
			return rm, nil
		},
		send: func(m *BenchMsg) error { return cli.Send(bg, sinkAddr, m) },
		sink: sink,
	}
	warmUp(b, t)
	return t
}

// EchoService is the net/rpc server of the baseline.
type EchoService struct{ sink *sinkCounter }

// Echo replies with the message it got.
func (s *EchoService) Echo(args *BenchMsg, reply *BenchMsg) error {
	*reply = *args
	return nil
}

// Sink counts messages; its reply is a zero int, the smallest net/rpc can
// send (gob refuses a struct without fields).
func (s *EchoService) Sink(args *BenchMsg, reply *int) error {
	s.sink.hit()
	return nil
}

// startNetRPC starts a net/rpc server on loopback and one *rpc.Client (one
// connection) to it. Everything is closed when b ends.
func startNetRPC(b *testing.B) *transport {
	b.Helper()
	sink := &sinkCounter{}
	sink.start()
	srv := rpc.NewServer()
	if err := srv.RegisterName("Echo", &EchoService{sink: sink}); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				srv.ServeConn(c) // returns once the client closes
			}()
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		wg.Wait()
		b.Fatal(err)
	}
	cli := rpc.NewClient(nc)
	b.Cleanup(func() {
		cli.Close()
		ln.Close()
		wg.Wait()
	})
	// The baseline of Send: net/rpc has no one-way call, so each message is
	// an asynchronous client.Go to Echo.Sink, whose reply (a zero int) is
	// decoded by the client and then discarded: the Done channel has room
	// for one call, is never read, and net/rpc silently drops a completion
	// that does not fit. Like wire's side, it counts as done when the
	// server's handler has counted every message.
	discard := make(chan *rpc.Call, 1)
	t := &transport{
		name: "netrpc",
		ask: func(m *BenchMsg) (*BenchMsg, error) {
			var r BenchMsg
			if err := cli.Call("Echo.Echo", m, &r); err != nil {
				return nil, err
			}
			return &r, nil
		},
		send: func(m *BenchMsg) error {
			// A fresh reply per call: replies are decoded concurrently
			// with later calls.
			call := cli.Go("Echo.Sink", m, new(int), discard)
			return call.Error // set at once only if the client is shut down
		},
		sink: sink,
	}
	warmUp(b, t)
	return t
}
