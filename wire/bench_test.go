package wire_test

// Benchmarks of wire against Go's standard net/rpc (gob codec), both over TCP
// loopback in the same process, carrying the same payload (BenchMsg: an int
// and a 64-byte string, echoed back by the server).
//
//	BenchmarkAsk1/{wire,netrpc}   request/reply, 1 caller
//	BenchmarkAsk64/{wire,netrpc}  request/reply, 64 concurrent callers sharing
//	                              one client (one wire Node, one *rpc.Client),
//	                              so one TCP connection either way
//	BenchmarkSend/{wire,netrpc}   one-way messages handled per second
//	BenchmarkRatios               all of the above, both sides interleaved in
//	                              rounds within one run, printed as a table of
//	                              wire ÷ net/rpc ratios
//
// The machine these run on is shared and noisy, so absolute numbers move from
// run to run; BenchmarkRatios, which alternates the two transports round by
// round, is the number to compare.
//
// Run:
//
//	go test -run '^$' -bench . -benchtime 2s -benchmem ./wire/

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/rpc"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alohasched/aloha/wire"
)

// BenchMsg is the payload of every benchmark. It is exported because net/rpc
// only accepts exported argument types.
type BenchMsg struct {
	N    int    `msgpack:"n"`
	Text string `msgpack:"text"`
}

// benchText is the 64-byte string carried by every BenchMsg.
var benchText = strings.Repeat("0123456789abcdef", 4)

const (
	benchMsgCode = 200

	// sendWindow bounds how many one-way messages may be sent and not yet
	// handled, on both transports alike: wire's Send never blocks and an
	// endpoint drops what exceeds its mailbox (100 000 by default), so an
	// unthrottled sender would lose messages. The sender pauses at
	// sendWindow outstanding and resumes at half of it.
	sendWindow = 8192

	// benchStall fails a benchmark that makes no progress for this long.
	benchStall = 30 * time.Second

	// The ratio table: rounds of each scenario, each round running wire and
	// net/rpc for ratioRoundTime each, in alternating order.
	ratioRounds    = 5
	ratioRoundTime = 600 * time.Millisecond
)

// transport is one side of the comparison, connected and warmed up.
type transport struct {
	name string
	ask  func(*BenchMsg) (*BenchMsg, error)
	send func(*BenchMsg) error
	sink *sinkCounter // counts the one-way messages the server handled
}

// sinkCounter counts messages handled by the server's one-way handler and
// signals when an expected number has arrived.
type sinkCounter struct {
	count  atomic.Int64
	target atomic.Int64

	mu     sync.Mutex
	done   chan struct{}
	closed bool
}

// start resets the counter for a new run.
func (s *sinkCounter) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count.Store(0)
	s.target.Store(-1)
	s.done = make(chan struct{})
	s.closed = false
}

// expect returns a channel closed once n messages have been handled since
// start.
func (s *sinkCounter) expect(n int64) <-chan struct{} {
	s.target.Store(n)
	if s.count.Load() >= n {
		s.finish()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

func (s *sinkCounter) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
}

// hit is called by the server for every one-way message.
func (s *sinkCounter) hit() {
	if s.count.Add(1) == s.target.Load() {
		s.finish()
	}
}

// throttle blocks while sent-handled >= sendWindow, until it is back to
// sendWindow/2.
func (s *sinkCounter) throttle(sent int64) error {
	if sent-s.count.Load() < sendWindow {
		return nil
	}
	last, since := s.count.Load(), time.Now()
	for {
		time.Sleep(50 * time.Microsecond)
		c := s.count.Load()
		if sent-c <= sendWindow/2 {
			return nil
		}
		if c != last {
			last, since = c, time.Now()
		} else if time.Since(since) > benchStall {
			return fmt.Errorf("receiver stuck at %d of %d messages", c, sent)
		}
	}
}

// wait waits for done, failing if the receiver stops making progress.
func (s *sinkCounter) wait(done <-chan struct{}) error {
	last := s.count.Load()
	t := time.NewTicker(benchStall)
	defer t.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-t.C:
			c := s.count.Load()
			if c == last {
				return fmt.Errorf("receiver stuck at %d of %d messages", c, s.target.Load())
			}
			last = c
		}
	}
}

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

// warmUp opens the connection and gets the first-use costs (handshake, gob
// type descriptions, pools) out of the measurements.
func warmUp(b *testing.B, t *transport) {
	b.Helper()
	if _, _, err := askFor(t, 4, 50*time.Millisecond, nil); err != nil {
		b.Fatalf("%s: warm-up ask: %v", t.name, err)
	}
	if _, _, err := sendFor(t, 20*time.Millisecond); err != nil {
		b.Fatalf("%s: warm-up send: %v", t.name, err)
	}
}

// runAsks makes n asks from callers goroutines and stores the latency of ask
// i in lat[i].
func runAsks(t *transport, callers, n int, lat []time.Duration) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &BenchMsg{Text: benchText}
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				m.N = int(i)
				t0 := time.Now()
				r, err := t.ask(m)
				lat[i] = time.Since(t0)
				if err == nil && (r.N != m.N || r.Text != m.Text) {
					err = fmt.Errorf("%s: reply %d does not echo ask %d", t.name, r.N, m.N)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// askFor asks from callers goroutines for about d. If lat is not nil,
// caller g appends its latencies to lat[g].
func askFor(t *transport, callers int, d time.Duration, lat [][]time.Duration) (ops int64, elapsed time.Duration, err error) {
	var (
		total    atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		stop     atomic.Bool
	)
	start := time.Now()
	deadline := start.Add(d)
	for g := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &BenchMsg{Text: benchText}
			var n int64
			defer func() { total.Add(n) }()
			for !stop.Load() {
				t0 := time.Now()
				if t0.After(deadline) {
					return
				}
				m.N = int(n)
				r, err := t.ask(m)
				l := time.Since(t0)
				if err == nil && (r.N != m.N || r.Text != m.Text) {
					err = fmt.Errorf("%s: reply %d does not echo ask %d", t.name, r.N, m.N)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					stop.Store(true)
					return
				}
				n++
				if lat != nil {
					lat[g] = append(lat[g], l)
				}
			}
		}()
	}
	wg.Wait()
	return total.Load(), time.Since(start), firstErr
}

// runSends sends n one-way messages and waits until the server has handled
// them all.
func runSends(t *transport, n int) error {
	t.sink.start()
	done := t.sink.expect(int64(n))
	m := &BenchMsg{Text: benchText}
	for i := range n {
		if err := t.sink.throttle(int64(i)); err != nil {
			return err
		}
		m.N = i
		if err := t.send(m); err != nil {
			return err
		}
	}
	return t.sink.wait(done)
}

// sendFor sends one-way messages for about d, then waits until the server
// has handled them all.
func sendFor(t *transport, d time.Duration) (ops int64, elapsed time.Duration, err error) {
	t.sink.start()
	m := &BenchMsg{Text: benchText}
	start := time.Now()
	deadline := start.Add(d)
	var sent int64
	for {
		if sent%64 == 0 && time.Now().After(deadline) {
			break
		}
		if err := t.sink.throttle(sent); err != nil {
			return 0, 0, err
		}
		m.N = int(sent)
		if err := t.send(m); err != nil {
			return 0, 0, err
		}
		sent++
	}
	if err := t.sink.wait(t.sink.expect(sent)); err != nil {
		return 0, 0, err
	}
	return sent, time.Since(start), nil
}

// percentile returns the p-quantile (0 < p <= 1) of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// startBoth starts both transports, wire first.
func startBoth(b *testing.B) []*transport {
	return []*transport{startWire(b), startNetRPC(b)}
}

func BenchmarkAsk1(b *testing.B) { benchAsk(b, 1) }

func BenchmarkAsk64(b *testing.B) { benchAsk(b, 64) }

func benchAsk(b *testing.B, callers int) {
	for _, t := range startBoth(b) {
		b.Run(t.name, func(b *testing.B) {
			lat := make([]time.Duration, b.N)
			runtime.GC()
			b.ResetTimer()
			start := time.Now()
			err := runAsks(t, callers, b.N, lat)
			elapsed := time.Since(start)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
			b.ReportMetric(micros(percentile(lat, 0.50)), "p50-µs")
			b.ReportMetric(micros(percentile(lat, 0.99)), "p99-µs")
		})
	}
}

func BenchmarkSend(b *testing.B) {
	for _, t := range startBoth(b) {
		b.Run(t.name, func(b *testing.B) {
			runtime.GC()
			b.ResetTimer()
			start := time.Now()
			err := runSends(t, b.N)
			elapsed := time.Since(start)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
		})
	}
}

// sideStats accumulates one transport's rounds of one scenario.
type sideStats struct {
	ops     int64
	elapsed time.Duration
	rates   []float64 // ops/s of each round
	lat     []time.Duration
}

func (s *sideStats) rate() float64 { return float64(s.ops) / s.elapsed.Seconds() }

// BenchmarkRatios measures wire and net/rpc alternately, round by round
// (ratioRounds rounds of ratioRoundTime per side and scenario, the order
// flipping every round), so that both see the same machine load, and logs
// a table of wire ÷ net/rpc: for ops/s higher is better, for latencies
// lower is better. It measures once, in the first b.Loop iteration, however
// many iterations -benchtime asks for, so its ns/op means nothing.
func BenchmarkRatios(b *testing.B) {
	sides := startBoth(b)
	scenarios := []struct {
		name, metric string
		callers      int // 0: one-way sends
	}{
		{"ask-1", "ask1", 1},
		{"ask-64", "ask64", 64},
		{"send", "send", 0},
	}
	var table []string
	latBuf := make([][]time.Duration, 64)
	for b.Loop() {
		if table != nil {
			continue // measured already; see above
		}
		table = append(table, "ratio = wire ÷ net/rpc: ops/s higher is better, latency lower is better; per-round ops/s ratios below each row")
		for _, sc := range scenarios {
			var st [2]sideStats
			for r := range ratioRounds {
				order := []int{0, 1}
				if r%2 == 1 {
					order = []int{1, 0}
				}
				for _, i := range order {
					runtime.GC()
					var (
						ops     int64
						elapsed time.Duration
						err     error
					)
					if sc.callers == 0 {
						ops, elapsed, err = sendFor(sides[i], ratioRoundTime)
					} else {
						for g := range latBuf {
							latBuf[g] = latBuf[g][:0]
						}
						ops, elapsed, err = askFor(sides[i], sc.callers, ratioRoundTime, latBuf[:sc.callers])
						for _, l := range latBuf[:sc.callers] {
							st[i].lat = append(st[i].lat, l...)
						}
					}
					if err != nil {
						b.Fatalf("%s %s: %v", sc.name, sides[i].name, err)
					}
					st[i].ops += ops
					st[i].elapsed += elapsed
					st[i].rates = append(st[i].rates, float64(ops)/elapsed.Seconds())
				}
			}
			w, n := &st[0], &st[1]
			ratio := w.rate() / n.rate()
			b.ReportMetric(ratio, "ratio-"+sc.metric)
			var row string
			if sc.callers == 0 {
				row = fmt.Sprintf("%-7s wire %8.0f ops/s | net/rpc %8.0f ops/s | ratio %.2fx",
					sc.name, w.rate(), n.rate(), ratio)
			} else {
				slices.Sort(w.lat)
				slices.Sort(n.lat)
				w50, w99 := percentile(w.lat, 0.5), percentile(w.lat, 0.99)
				n50, n99 := percentile(n.lat, 0.5), percentile(n.lat, 0.99)
				row = fmt.Sprintf("%-7s wire %8.0f ops/s p50 %6.1fµs p99 %6.1fµs | net/rpc %8.0f ops/s p50 %6.1fµs p99 %6.1fµs | ratio %.2fx (p50 %.2fx, p99 %.2fx)",
					sc.name, w.rate(), micros(w50), micros(w99), n.rate(), micros(n50), micros(n99),
					ratio, micros(w50)/micros(n50), micros(w99)/micros(n99))
				b.ReportMetric(micros(w50)/micros(n50), "p50ratio-"+sc.metric)
				b.ReportMetric(micros(w99)/micros(n99), "p99ratio-"+sc.metric)
			}
			rounds := make([]string, len(w.rates))
			for i := range w.rates {
				rounds[i] = fmt.Sprintf("%.2f", w.rates[i]/n.rates[i])
			}
			table = append(table, row, "        rounds: "+strings.Join(rounds, " "))
		}
	}
	// The testing package keeps at most 10 lines of a benchmark's log.
	b.Log("\n" + strings.Join(table, "\n"))
}
