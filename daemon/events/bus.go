package events

import (
	"sync"
	"time"

	"github.com/alohasched/aloha/api"
)

// DefaultCapacity is how many recent events a Bus keeps for subscribers.
const DefaultCapacity = 10_000

// Bus keeps the most recent events and wakes subscribers waiting for new
// ones. It is safe for concurrent use.
type Bus struct {
	mu      sync.Mutex
	ring    []api.Event
	head    int    // index of the oldest event in ring
	size    int    // number of events in ring
	lastSeq uint64 // sequence number of the newest event (0: none yet)
	changed chan struct{}
	now     func() time.Time
	taps    []func(api.Event)
}

// NewBus returns a bus keeping the last capacity events.
func NewBus(capacity int) *Bus {
	if capacity < 1 {
		capacity = DefaultCapacity
	}
	return &Bus{ring: make([]api.Event, capacity), changed: make(chan struct{}), now: time.Now}
}

// Tap registers f to see every event as it is published, in order. f runs
// with the bus locked, so it must only hand the event on (to a bounded
// queue) and never block.
func (b *Bus) Tap(f func(api.Event)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.taps = append(b.taps, f)
}

// Publish numbers e, stamps its time when unset, keeps it and wakes every
// waiting subscriber. It returns the event as published.
func (b *Bus) Publish(e api.Event) api.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastSeq++
	e.Seq = b.lastSeq
	if e.Time.IsZero() {
		e.Time = b.now()
	}
	idx := (b.head + b.size) % len(b.ring)
	if b.size == len(b.ring) {
		b.head = (b.head + 1) % len(b.ring)
	} else {
		b.size++
	}
	b.ring[idx] = e
	for _, tap := range b.taps {
		tap(e)
	}
	close(b.changed)
	b.changed = make(chan struct{})
	return e
}

// LastSeq is the sequence number of the newest event, 0 if none.
func (b *Bus) LastSeq() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastSeq
}

// Since returns up to max events with a sequence number above after (all
// of them when max <= 0), preceded by a Lagged event when some were already
// dropped, and a channel that is closed when a newer event is published.
func (b *Bus) Since(after uint64, max int) ([]api.Event, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if after > b.lastSeq { // a subscriber from an earlier numbering
		after = 0
	}
	var out []api.Event
	oldest := b.lastSeq - uint64(b.size) + 1
	if b.size > 0 && after+1 < oldest {
		out = append(out, api.Event{Type: api.EventLagged, Time: b.now(), Seq: oldest - 1, Dropped: oldest - 1 - after,
			Message: "subscriber fell behind; older events were dropped"})
		after = oldest - 1
	}
	for seq := after + 1; seq <= b.lastSeq; seq++ {
		if max > 0 && len(out) >= max {
			break
		}
		out = append(out, b.ring[(b.head+int(seq-oldest))%len(b.ring)])
	}
	return out, b.changed
}
