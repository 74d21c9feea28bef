package events

import (
	"testing"

	"github.com/alohasched/aloha/api"
)

func TestPublishNumbersAndKeeps(t *testing.T) {
	b := NewBus(3)
	for i := range 2 {
		e := b.Publish(api.Event{Type: api.EventWorkerJoined, WorkerID: string(rune('a' + i))})
		if e.Seq != uint64(i+1) || e.Time.IsZero() {
			t.Fatalf("Publish #%d = seq %d time %v", i, e.Seq, e.Time)
		}
	}
	got, _ := b.Since(0, 0)
	if len(got) != 2 || got[0].WorkerID != "a" || got[1].WorkerID != "b" {
		t.Fatalf("Since(0) = %+v", got)
	}
	got, _ = b.Since(1, 0)
	if len(got) != 1 || got[0].Seq != 2 {
		t.Fatalf("Since(1) = %+v", got)
	}
	got, _ = b.Since(0, 1)
	if len(got) != 1 || got[0].Seq != 1 {
		t.Fatalf("Since(0, max 1) = %+v", got)
	}
}

func TestLaggedSubscriberIsTold(t *testing.T) {
	b := NewBus(3)
	for range 10 {
		b.Publish(api.Event{Type: api.EventAppStateChanged})
	}
	got, _ := b.Since(2, 0)
	if len(got) != 4 || got[0].Type != api.EventLagged || got[0].Dropped != 5 {
		t.Fatalf("Since(2) = %+v, want Lagged(5) then events 8..10", got)
	}
	if got[1].Seq != 8 || got[3].Seq != 10 {
		t.Fatalf("events after the marker = %+v", got[1:])
	}
}

func TestWaitersWakeOnPublish(t *testing.T) {
	b := NewBus(4)
	got, next := b.Since(0, 0)
	if len(got) != 0 {
		t.Fatalf("Since on an empty bus = %+v", got)
	}
	select {
	case <-next:
		t.Fatal("woken before any publish")
	default:
	}
	b.Publish(api.Event{Type: api.EventLeaderChanged})
	select {
	case <-next:
	default:
		t.Fatal("not woken by publish")
	}
}

func TestSubscriberFromAnEarlierNumberingStartsOver(t *testing.T) {
	b := NewBus(4)
	b.Publish(api.Event{Type: api.EventLeaderChanged})
	got, _ := b.Since(500, 0)
	if len(got) != 1 || got[0].Seq != 1 {
		t.Fatalf("Since(500) on a fresh bus = %+v, want event 1", got)
	}
}

func TestTapSeesEveryEvent(t *testing.T) {
	b := NewBus(2)
	var seen []uint64
	b.Tap(func(e api.Event) { seen = append(seen, e.Seq) })
	for range 5 {
		b.Publish(api.Event{})
	}
	if len(seen) != 5 || seen[4] != 5 {
		t.Fatalf("tap saw %v", seen)
	}
}
