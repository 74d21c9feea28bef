package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a listener that keeps what it is given.
type recorder struct {
	mu  sync.Mutex
	got []api.Event
}

func (r *recorder) OnEvent(_ context.Context, e api.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, e)
	return nil
}

func (r *recorder) events() []api.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]api.Event(nil), r.got...)
}

func (r *recorder) waitLen(t *testing.T, n int) []api.Event {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if got := len(r.events()); got < n {
			return fmt.Errorf("listener has %d events, want %d", got, n)
		}
		return nil
	})
	return r.events()
}

// blocker is a listener whose first call blocks until release is closed
// (whatever its context says, like a hung listener); it reports the
// start of every call on started.
type blocker struct {
	recorder
	started chan uint64
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{started: make(chan uint64, 10_000), release: make(chan struct{})}
}

func (b *blocker) Name() string { return "blocker" }

func (b *blocker) OnEvent(ctx context.Context, e api.Event) error {
	b.started <- e.Seq
	<-b.release
	return b.recorder.OnEvent(ctx, e)
}

// runDispatcher runs d until the test ends.
func runDispatcher(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func publishN(d *Dispatcher, from, to uint64) {
	for seq := from; seq <= to; seq++ {
		d.Publish(api.Event{Seq: seq, Type: api.EventAppStateChanged})
	}
}

func seqs(evs []api.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

func TestDispatcherDeliversInOrderToEveryListener(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	d := NewDispatcher([]Listener{a, b}, DispatcherOptions{Log: quiet()})
	publishN(d, 1, 3) // before Run: queued
	runDispatcher(t, d)
	publishN(d, 4, 100)
	for _, r := range []*recorder{a, b} {
		got := r.waitLen(t, 100)
		for i, e := range got {
			if e.Seq != uint64(i+1) {
				t.Fatalf("event %d has seq %d; seqs = %v", i, e.Seq, seqs(got))
			}
		}
	}
	st := d.Stats()
	if len(st) != 2 || st[0].Name != "*events.recorder" || st[1].Name != "*events.recorder-2" || st[0].Delivered != 100 {
		t.Fatalf("Stats() = %+v", st)
	}
}

// A listener whose queue overflows misses the newest events and is then
// told how many, after the events it kept and before the next ones.
func TestQueueOverflowReportsLagged(t *testing.T) {
	b := newBlocker()
	d := NewDispatcher([]Listener{b}, DispatcherOptions{Log: quiet(), QueueSize: 5})
	runDispatcher(t, d)
	publishN(d, 1, 1)
	<-b.started // event 1 is being handled, and blocks
	publishN(d, 2, 21)
	if st := d.Stats()[0]; st.Dropped != 15 || st.Queued != 5 {
		t.Fatalf("Stats() = %+v, want 15 dropped (7..21) and 5 queued (2..6)", st)
	}
	close(b.release)
	got := b.waitLen(t, 7)
	publishN(d, 22, 22)
	got = b.waitLen(t, 8)
	want := []uint64{1, 2, 3, 4, 5, 6, 21, 22}
	if fmt.Sprint(seqs(got)) != fmt.Sprint(want) {
		t.Fatalf("seqs = %v, want %v", seqs(got), want)
	}
	lag := got[6]
	if lag.Type != api.EventLagged || lag.Dropped != 15 || !strings.Contains(lag.Message, "15 events") {
		t.Fatalf("event after the kept ones = %+v, want Lagged with Dropped 15", lag)
	}
	if got[7].Type != api.EventAppStateChanged {
		t.Fatalf("last event = %+v", got[7])
	}
}

type panicker struct{ recorder }

func (p *panicker) OnEvent(ctx context.Context, e api.Event) error {
	if e.Seq == 2 {
		panic("listener bug")
	}
	return p.recorder.OnEvent(ctx, e)
}

func TestPanickingListenerIsRecoveredAndKeepsReceiving(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	p := &panicker{}
	d := NewDispatcher([]Listener{p}, DispatcherOptions{Log: log})
	runDispatcher(t, d)
	publishN(d, 1, 5)
	if got := p.waitLen(t, 4); fmt.Sprint(seqs(got)) != "[1 3 4 5]" {
		t.Fatalf("seqs = %v, want [1 3 4 5]", seqs(got))
	}
	if st := d.Stats()[0]; st.Failures != 1 || st.Delivered != 4 {
		t.Fatalf("Stats() = %+v, want 1 failure and 4 delivered", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "event listener panicked"); n != 1 || !strings.Contains(logs.String(), "listener bug") {
		t.Fatalf("log has %d panic lines:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestFailuresAreCountedOnce(t *testing.T) {
	var calls sync.WaitGroup
	calls.Add(4)
	l := ListenerFunc(func(_ context.Context, e api.Event) error {
		defer calls.Done()
		if e.Seq%2 == 1 {
			return errors.New("odd")
		}
		return nil
	})
	d := NewDispatcher([]Listener{l}, DispatcherOptions{Log: quiet()})
	runDispatcher(t, d)
	publishN(d, 1, 4)
	calls.Wait()
	testutil.WaitFor(t, 5*time.Second, func() error {
		if st := d.Stats()[0]; st.Failures != 2 || st.Delivered != 2 || st.Name != "events.ListenerFunc" {
			return fmt.Errorf("Stats() = %+v, want 2 failures and 2 delivered", st)
		}
		return nil
	})
}

// A hung listener fills its own queue only: Publish returns at once and
// the other listener gets every event.
func TestHungListenerDoesNotHoldBackOthers(t *testing.T) {
	hung, fine := newBlocker(), &recorder{}
	d := NewDispatcher([]Listener{hung, fine}, DispatcherOptions{Log: quiet(), QueueSize: 100})
	runDispatcher(t, d)
	t.Cleanup(func() { close(hung.release) }) // runs before the dispatcher stops
	publishN(d, 1, 1)
	<-hung.started
	const total = 1001
	for from := uint64(2); from <= total; from += 50 {
		publishN(d, from, from+49)
		fine.waitLen(t, int(from+49)) // paced, so that fine never overflows
	}
	got := fine.events()
	if len(got) != total || got[total-1].Seq != total {
		t.Fatalf("the other listener got %d events, last %d", len(got), got[len(got)-1].Seq)
	}
	if st := d.Stats(); st[0].Dropped != total-1-100 || st[0].Queued != 100 || st[1].Dropped != 0 {
		t.Fatalf("Stats() = %+v, want %d dropped for the hung listener only", st, total-1-100)
	}
}

// Stopping cancels the listeners' context; one that ignores it is
// abandoned after the grace, so the stop does not hang.
func TestRunAbandonsListenersThatIgnoreTheStop(t *testing.T) {
	polite := ListenerFunc(func(ctx context.Context, _ api.Event) error {
		<-ctx.Done()
		return ctx.Err()
	})
	rude := newBlocker()
	d := NewDispatcher([]Listener{polite, rude}, DispatcherOptions{Log: quiet(), StopGrace: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	publishN(d, 1, 1)
	<-rude.started
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the grace")
	}
	if st := d.Stats(); st[0].Failures != 0 {
		t.Fatalf("a listener cut short by the stop counted as failed: %+v", st)
	}
	close(rude.release)
	rude.waitLen(t, 1) // its goroutine ends now; goleak checks
}
