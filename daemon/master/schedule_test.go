package master

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func shellSlot(id string, cores, memory int) slot {
	return slot{id: id, coresFree: cores, memoryFree: memory, cores: cores, memory: memory, kinds: map[string]bool{"shell": true}}
}

func shellDemand(id string, cores, memory int) demand {
	return demand{id: id, kind: "shell", cores: cores, memory: memory}
}

func TestScheduleSpreadPicksMostFreeCores(t *testing.T) {
	workers := []slot{shellSlot("w1", 4, 4096), shellSlot("w2", 8, 4096), shellSlot("w3", 2, 4096)}
	waiting := []demand{shellDemand("a1", 1, 100), shellDemand("a2", 1, 100), shellDemand("a3", 1, 100)}
	got := schedule(waiting, workers, true)
	want := []placement{{"a1", "w2"}, {"a2", "w2"}, {"a3", "w2"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(placement{})); diff != "" {
		t.Fatalf("spread placements (-want +got):\n%s", diff)
	}
	// With equal free cores, placements alternate.
	workers = []slot{shellSlot("w1", 2, 4096), shellSlot("w2", 2, 4096)}
	got = schedule([]demand{shellDemand("a", 1, 1), shellDemand("b", 1, 1), shellDemand("c", 1, 1), shellDemand("d", 1, 1)}, workers, true)
	want = []placement{{"a", "w1"}, {"b", "w2"}, {"c", "w1"}, {"d", "w2"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(placement{})); diff != "" {
		t.Fatalf("spread alternation (-want +got):\n%s", diff)
	}
}

func TestSchedulePackFillsOneWorkerFirst(t *testing.T) {
	workers := []slot{shellSlot("w1", 4, 4096), shellSlot("w2", 4, 4096)}
	var waiting []demand
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		waiting = append(waiting, shellDemand(id, 1, 100))
	}
	got := schedule(waiting, workers, false)
	want := []placement{{"a", "w1"}, {"b", "w1"}, {"c", "w1"}, {"d", "w1"}, {"e", "w2"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(placement{})); diff != "" {
		t.Fatalf("pack placements (-want +got):\n%s", diff)
	}
}

func TestScheduleRespectsResourcesAndKinds(t *testing.T) {
	workers := []slot{shellSlot("w1", 2, 1000), {id: "w2", coresFree: 8, memoryFree: 8000, cores: 8, memory: 8000, kinds: map[string]bool{"spark": true}}}
	waiting := []demand{
		shellDemand("big", 4, 100),  // fits no shell worker: skipped, does not block
		shellDemand("fat", 1, 2000), // too much memory
		{id: "sp", kind: "spark", cores: 8, memory: 8000},
		shellDemand("ok1", 1, 500),
		shellDemand("ok2", 1, 500),
		shellDemand("no-room", 1, 1), // w1 is full now
	}
	got := schedule(waiting, workers, true)
	want := []placement{{"sp", "w2"}, {"ok1", "w1"}, {"ok2", "w1"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(placement{})); diff != "" {
		t.Fatalf("placements (-want +got):\n%s", diff)
	}
}

func TestWaitReason(t *testing.T) {
	workers := []slot{shellSlot("w1", 8, 4096), shellSlot("w2", 2, 16384)}
	cases := []struct {
		d    demand
		ws   []slot
		want string
	}{
		{shellDemand("a", 64, 1), workers, "waiting: needs 64 cores, largest worker has 8"},
		{shellDemand("a", 1, 32768), workers, "waiting: needs 32768 MB of memory, largest worker has 16384 MB"},
		{shellDemand("a", 8, 16384), workers, "waiting: needs 8 cores and 16384 MB on one worker, no worker has both"},
		{shellDemand("a", 1, 1), workers, "waiting for free resources"},
		{shellDemand("a", 1, 1), nil, "waiting: no workers registered"},
		{demand{id: "a", kind: "flink", cores: 1, memory: 1}, workers, `waiting: no alive worker runs kind "flink"`},
	}
	for _, tc := range cases {
		if got := waitReason(tc.d, tc.ws); got != tc.want {
			t.Errorf("waitReason(%+v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
