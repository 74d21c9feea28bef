package master

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
)

func (tm *testMaster) stats(t *testing.T) *Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := tm.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

// checkCounts compares the kept application counts with a scan of every
// application, on the loop.
func (tm *testMaster) checkCounts(t *testing.T) map[api.AppState]int {
	t.Helper()
	scanned := make(chan map[api.AppState]int, 1)
	tm.post(func() {
		counts := map[api.AppState]int{}
		for _, a := range tm.apps {
			counts[a.info.State]++
		}
		scanned <- counts
	})
	want := <-scanned
	if got := tm.stats(t).Apps; !maps.Equal(got, want) {
		t.Fatalf("Stats().Apps = %v, a scan of the apps finds %v", got, want)
	}
	return want
}

func TestStatsFollowTheCluster(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	tm := startMaster(t, func(o *Options) {
		o.RetainedApps = 2
		o.ObserveSchedulingLatency = func(d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			waits = append(waits, d)
		}
	})
	if st := tm.stats(t); st.State != api.MasterAlive || len(st.Apps) != 0 || len(st.Workers) != 0 || st.Submissions != 0 {
		t.Fatalf("Stats() of an empty master = %+v", st)
	}
	fw := newFakeWorker(t, tm, 2, 1024)
	fw.mustRegister()
	var ids []string
	for i := range 6 {
		ids = append(ids, tm.submit(t, shell(fmt.Sprint("app-", i))))
	}
	// Two fit; run them to an end, one well, one badly; two more follow.
	for _, state := range []api.AppState{api.AppFinished, api.AppFailed} {
		l := next[*api.LaunchApp](fw)
		fw.report(l.AppID, l.Run, api.AppRunning, nil)
		fw.report(l.AppID, l.Run, state, intp(0))
	}
	next[*api.LaunchApp](fw)
	l := next[*api.LaunchApp](fw)
	fw.report(l.AppID, l.Run, api.AppRunning, nil)
	if _, err := tm.ask(t, &api.KillAppRequest{AppID: ids[5]}); err != nil { // still waiting
		t.Fatal(err)
	}
	// FINISHED left the retained two (FAILED, KILLED) when KILLED came.
	want := map[api.AppState]int{api.AppFailed: 1, api.AppKilled: 1, api.AppLaunching: 1, api.AppRunning: 1, api.AppSubmitted: 1}
	if got := tm.checkCounts(t); !maps.Equal(got, want) {
		t.Fatalf("apps by state = %v, want %v", got, want)
	}
	st := tm.stats(t)
	if st.Submissions != 6 || st.Workers[api.WorkerAlive] != 1 || st.CoresUsed != 2 || st.CoresFree != 0 || st.MemoryUsed != 256 || st.MemoryFree != 768 {
		t.Fatalf("Stats() = %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waits) != 4 {
		t.Fatalf("%d scheduling latencies observed, want one per placement (4)", len(waits))
	}
	for _, d := range waits {
		if d < 0 || d > time.Minute {
			t.Fatalf("scheduling latencies = %v", waits)
		}
	}
}

// The counts survive a change of leader: what is read back is counted,
// and runs lost on the way move on.
func TestStatsAfterRecovery(t *testing.T) {
	store := newMemStore()
	b := &recovery.Batch{}
	now := time.Now()
	spec := shell("x")
	b.PutWorker(api.WorkerInfo{ID: "worker-1", Host: "127.0.0.1", Port: 1, Addr: "127.0.0.1:1", Cores: 4, Memory: 1024, State: api.WorkerAlive})
	b.PutApp(api.AppInfo{ID: "app-20260101000000-0000", Spec: spec, SubmittedAt: now, State: api.AppSubmitted})
	b.PutApp(api.AppInfo{ID: "app-20260101000000-0001", Spec: spec, SubmittedAt: now, State: api.AppFinished, EndedAt: now})
	b.PutApp(api.AppInfo{ID: "app-20260101000000-0002", Spec: spec, SubmittedAt: now, State: api.AppRunning, WorkerID: "worker-1", Run: 1})
	b.PutApp(api.AppInfo{ID: "app-20260101000000-0003", Spec: spec, SubmittedAt: now, State: api.AppRunning, WorkerID: "worker-gone", Run: 1})
	if err := store.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	el := newGateElector()
	el.grant <- 7
	tm := startMaster(t, func(o *Options) { o.Store = store; o.Elector = el; o.WorkerTimeout = time.Hour })
	tm.waitMasterState(t, api.MasterRecovering)
	want := map[api.AppState]int{api.AppSubmitted: 1, api.AppFinished: 1, api.AppUnknown: 1, api.AppError: 1}
	if got := tm.checkCounts(t); !maps.Equal(got, want) {
		t.Fatalf("apps by state after recovery = %v, want %v", got, want)
	}
	if st := tm.stats(t); st.Workers[api.WorkerUnknown] != 1 || st.State != api.MasterRecovering {
		t.Fatalf("Stats() = %+v", st)
	}
}

// A standby answers Stats too, with nothing in it.
func TestStatsOfAStandby(t *testing.T) {
	tm := startMaster(t, func(o *Options) { o.Elector = newGateElector(); o.Store = newMemStore() })
	st := tm.stats(t)
	if st.State != api.MasterStandby || len(st.Apps) != 0 || len(st.Workers) != 0 {
		t.Fatalf("Stats() of a standby = %+v", st)
	}
}
