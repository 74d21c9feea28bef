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
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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
