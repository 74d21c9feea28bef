package events

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alohasched/aloha/api"
)

// DefaultQueueSize is how many events wait for one listener before newer
// ones are dropped for it: at a few events per application, a burst of a
// few hundred submissions fits, and a hung listener holds at most this
// many events (a few hundred KB).
const DefaultQueueSize = 1000

// DefaultStopGrace is how long a stopping dispatcher waits for listeners
// to return before it abandons them.
const DefaultStopGrace = 5 * time.Second

// Listener is told of every event a master publishes. See the package
// documentation for how it is called and what it should do.
type Listener interface {
	OnEvent(ctx context.Context, e api.Event) error
}

// ListenerFunc adapts a function to Listener.
type ListenerFunc func(ctx context.Context, e api.Event) error

// OnEvent calls f.
func (f ListenerFunc) OnEvent(ctx context.Context, e api.Event) error { return f(ctx, e) }

// Named is implemented by listeners that choose the name they are logged
// and counted under; others are named after their Go type.
type Named interface {
	Name() string
}

// ListenerName is the name l is logged and counted under.
func ListenerName(l Listener) string {
	if n, ok := l.(Named); ok && n.Name() != "" {
		return n.Name()
	}
	return fmt.Sprintf("%T", l)
}

// ListenerStats are one listener's counters since the dispatcher was
// created.
type ListenerStats struct {
	Name string
	// Delivered counts OnEvent calls that returned nil.
	Delivered uint64
	// Failures counts OnEvent calls that returned an error or panicked.
	Failures uint64
	// Dropped counts events lost because the listener's queue was full.
	Dropped uint64
	// Queued is how many events wait for the listener now.
	Queued int
}

// DispatcherOptions configure a Dispatcher.
type DispatcherOptions struct {
	Log *slog.Logger
	// QueueSize bounds each listener's queue; 0 means DefaultQueueSize.
	QueueSize int
	// StopGrace bounds how long Run waits for listeners once its context
	// is done; 0 means DefaultStopGrace.
	StopGrace time.Duration
}

// Dispatcher hands events to listeners, each through a bounded queue of
// its own served by a goroutine of its own (see "Concurrency properties"
// in the package documentation). Create it with NewDispatcher, feed it
// with Publish (typically Bus.Tap(d.Publish)) and run it once with Run.
type Dispatcher struct {
	log   *slog.Logger
	grace time.Duration
	subs  []*subscription
}

// subscription is one listener and its queue.
type subscription struct {
	name   string
	l      Listener
	max    int
	signal chan struct{} // capacity 1: "the queue is not empty"

	mu       sync.Mutex
	queue    []api.Event
	lost     uint64 // dropped since the last pop
	lostSeq  uint64 // sequence number of the newest event dropped
	inCall   atomic.Bool
	dropped  atomic.Uint64
	failures atomic.Uint64
	done     atomic.Uint64 // delivered
}

// NewDispatcher returns a dispatcher for listeners, named by ListenerName;
// a name used twice gets a suffix ("webhook-2").
func NewDispatcher(listeners []Listener, opts DispatcherOptions) *Dispatcher {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	d := &Dispatcher{log: opts.Log, grace: opts.StopGrace}
	seen := map[string]int{}
	for _, l := range listeners {
		name := ListenerName(l)
		if seen[name]++; seen[name] > 1 {
			name += "-" + strconv.Itoa(seen[name])
		}
		d.subs = append(d.subs, &subscription{name: name, l: l, max: opts.QueueSize, signal: make(chan struct{}, 1)})
	}
	return d
}

// Len is the number of listeners.
func (d *Dispatcher) Len() int { return len(d.subs) }

// Publish queues e for every listener. It never blocks: a listener whose
// queue is full misses e, which is counted and later reported to it with
// a Lagged event. It is safe to call from any goroutine, also under the
// bus's lock, and before or after Run.
func (d *Dispatcher) Publish(e api.Event) {
	for _, s := range d.subs {
		s.push(e)
	}
}

func (s *subscription) push(e api.Event) {
	s.mu.Lock()
	if len(s.queue) >= s.max {
		s.lost++
		s.lostSeq = e.Seq
		s.mu.Unlock()
		s.dropped.Add(1)
		return
	}
	// Only pop makes room, and it reports what was lost first: a gap is
	// never inside the queue.
	s.queue = append(s.queue, e)
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// pop takes every queued event, followed by a Lagged event when some were
// dropped since (drops happen only while the queue is full, so after
// everything in it). done is the previous batch, whose array is reused.
func (s *subscription) pop(done []api.Event) []api.Event {
	clear(done)
	s.mu.Lock()
	defer s.mu.Unlock()
	batch := s.queue
	s.queue = done[:0]
	if s.lost > 0 {
		batch = append(batch, s.laggedLocked())
	}
	return batch
}

func (s *subscription) laggedLocked() api.Event {
	e := api.Event{Type: api.EventLagged, Seq: s.lostSeq, Time: time.Now(), Dropped: s.lost,
		Message: fmt.Sprintf("listener %s fell behind; %d events were dropped", s.name, s.lost)}
	s.lost = 0
	return e
}

// Run serves every listener on a goroutine of its own until ctx is done,
// then cancels the listeners' context and returns once they have all
// returned, or after StopGrace, abandoning those that have not. Call it
// once.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range d.subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.serve(ctx, s)
		}()
	}
	<-ctx.Done()
	all := make(chan struct{})
	go func() {
		wg.Wait()
		close(all)
	}()
	timer := time.NewTimer(d.grace)
	defer timer.Stop()
	select {
	case <-all:
	case <-timer.C:
		var stuck []string
		for _, s := range d.subs {
			if s.inCall.Load() {
				stuck = append(stuck, s.name)
			}
		}
		d.log.Error("event listeners did not return in time after the stop; abandoning them",
			"listeners", stuck, "grace", d.grace.String())
	}
}

// serve delivers one listener's events until ctx is done.
func (d *Dispatcher) serve(ctx context.Context, s *subscription) {
	var batch []api.Event
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.signal:
		}
		batch = s.pop(batch)
		for _, e := range batch {
			if ctx.Err() != nil {
				return
			}
			d.deliver(ctx, s, e)
		}
	}
}

// deliver calls the listener once, turning an error or a panic into a
// counted, logged failure.
func (d *Dispatcher) deliver(ctx context.Context, s *subscription, e api.Event) {
	s.inCall.Store(true)
	defer s.inCall.Store(false)
	defer func() {
		if r := recover(); r != nil {
			s.failures.Add(1)
			d.log.Error("event listener panicked", "listener", s.name, "event", string(e.Type), "seq", e.Seq,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	err := s.l.OnEvent(ctx, e)
	switch {
	case err == nil:
		s.done.Add(1)
	case ctx.Err() != nil:
		// Cut short by the stop: not the listener's failure.
	default:
		s.failures.Add(1)
		d.log.Warn("event listener failed", "listener", s.name, "event", string(e.Type), "seq", e.Seq, "error", err.Error())
	}
}

// Stats returns every listener's counters, in the order given to
// NewDispatcher. It is safe to call at any time.
func (d *Dispatcher) Stats() []ListenerStats {
	out := make([]ListenerStats, len(d.subs))
	for i, s := range d.subs {
		s.mu.Lock()
		queued := len(s.queue)
		s.mu.Unlock()
		out[i] = ListenerStats{Name: s.name, Delivered: s.done.Load(), Failures: s.failures.Load(), Dropped: s.dropped.Load(), Queued: queued}
	}
	return out
}
