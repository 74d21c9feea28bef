// Package recoverytest is the conformance suite every recovery mode
// passes: the same tests run against the FILESYSTEM and the ZOOKEEPER
// store and elector, so the master can rely on one contract.
package recoverytest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
)

// StoreFactory opens a store on the backing of one test (a directory, a
// ZooKeeper path). Opening it again must see what was committed.
type StoreFactory func(t *testing.T) recovery.Store

// ElectorFactory returns electors that share the backing of one test.
type ElectorFactory func(t *testing.T) func(url string) recovery.Elector

func app(id string, state api.AppState) api.AppInfo {
	return api.AppInfo{ID: id, State: state, Spec: api.AppSpec{Name: "n-" + id, EntryPoint: "shell", Args: "echo " + id, Cores: 1, Memory: 64},
		SubmittedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), History: []api.StateChange{{State: state, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}}
}

func worker(id string) api.WorkerInfo {
	return api.WorkerInfo{ID: id, Host: "127.0.0.1", Port: 4000, Addr: "127.0.0.1:4000", State: api.WorkerAlive, Cores: 4, Memory: 4096}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func load(t *testing.T, s recovery.Store) *recovery.State {
	t.Helper()
	snap, err := s.Load(ctx(t))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	st := recovery.NewState()
	for _, a := range snap.Apps {
		if _, dup := st.Apps[a.ID]; dup {
			t.Fatalf("Load returned app %s twice", a.ID)
		}
		st.Apps[a.ID] = a
	}
	for _, w := range snap.Workers {
		st.Workers[w.ID] = w
	}
	return st
}

// RunStoreTests checks a Store: what is committed is loaded, by the same
// store and by a new one on the same backing.
func RunStoreTests(t *testing.T, open StoreFactory) {
	t.Run("EmptyLoadsEmpty", func(t *testing.T) {
		s := open(t)
		if st := load(t, s); len(st.Apps)+len(st.Workers) != 0 {
			t.Fatalf("a new store holds %d apps and %d workers", len(st.Apps), len(st.Workers))
		}
	})
	t.Run("CommitThenLoad", func(t *testing.T) {
		s := open(t)
		b := &recovery.Batch{}
		b.PutApp(app("app-20260102030405-0001", api.AppRunning))
		b.PutApp(app("app-20260102030405-0002", api.AppSubmitted))
		b.PutWorker(worker("w1"))
		b.PutWorker(worker("w2"))
		if err := s.Commit(ctx(t), b); err != nil {
			t.Fatalf("Commit = %v", err)
		}
		b = &recovery.Batch{}
		b.PutApp(app("app-20260102030405-0001", api.AppFinished)) // overwrite
		b.DeleteApp("app-20260102030405-0002")
		b.DeleteWorker("w2")
		b.DeleteApp("app-20990101000000-0404") // deleting what is absent is fine
		if err := s.Commit(ctx(t), b); err != nil {
			t.Fatalf("Commit = %v", err)
		}
		check := func(st *recovery.State) {
			t.Helper()
			if len(st.Apps) != 1 || st.Apps["app-20260102030405-0001"].State != api.AppFinished {
				t.Fatalf("apps after commits = %+v", st.Apps)
			}
			got := st.Apps["app-20260102030405-0001"]
			if got.Spec.Args != "echo app-20260102030405-0001" || !got.SubmittedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || len(got.History) != 1 {
				t.Fatalf("app did not round-trip: %+v", got)
			}
			if len(st.Workers) != 1 || st.Workers["w1"].Cores != 4 {
				t.Fatalf("workers after commits = %+v", st.Workers)
			}
		}
		check(load(t, s))
		if err := s.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		check(load(t, open(t)))
	})
	t.Run("ManyApps", func(t *testing.T) {
		s := open(t)
		const n = 5000
		for i := 0; i < n; i += 500 {
			b := &recovery.Batch{}
			for j := i; j < i+500; j++ {
				b.PutApp(app(fmt.Sprintf("app-20260102030405-%04d", j), api.AppSubmitted))
			}
			if err := s.Commit(ctx(t), b); err != nil {
				t.Fatalf("Commit = %v", err)
			}
		}
		b := &recovery.Batch{}
		for j := 0; j < n; j += 2 {
			b.DeleteApp(fmt.Sprintf("app-20260102030405-%04d", j))
		}
		if err := s.Commit(ctx(t), b); err != nil {
			t.Fatalf("Commit = %v", err)
		}
		s.Close()
		if st := load(t, open(t)); len(st.Apps) != n/2 {
			t.Fatalf("after reopening: %d apps, want %d", len(st.Apps), n/2)
		}
	})
	t.Run("ClosedStoreRefuses", func(t *testing.T) {
		s := open(t)
		s.Close()
		b := &recovery.Batch{}
		b.PutWorker(worker("w"))
		if err := s.Commit(ctx(t), b); err == nil {
			t.Fatal("Commit on a closed store succeeded")
		}
	})
}

// RunElectorTests checks an Elector: one leader at a time, epochs that
// only grow, standbys that know the leader and take over when it resigns.
func RunElectorTests(t *testing.T, cluster ElectorFactory) {
	t.Run("SoleCandidateLeads", func(t *testing.T) {
		newElector := cluster(t)
		e := newElector("aloha://127.0.0.1:7001")
		defer e.Close()
		term, err := e.Campaign(ctx(t))
		if err != nil {
			t.Fatalf("Campaign = %v", err)
		}
		// Epochs are at least the clock in milliseconds, so they stay above
		// those of a master without recovery, which numbers terms so.
		if floor := uint64(time.Now().Add(-time.Minute).UnixMilli()); term.Epoch < floor {
			t.Fatalf("epoch %d is below the clock (%d ms)", term.Epoch, floor)
		}
		waitLeader(t, e, "aloha://127.0.0.1:7001")
		select {
		case <-term.Lost:
			t.Fatal("term lost without cause")
		default:
		}
	})
	t.Run("StandbyTakesOverWithALaterEpoch", func(t *testing.T) {
		newElector := cluster(t)
		a, b := newElector("aloha://127.0.0.1:7001"), newElector("aloha://127.0.0.1:7002")
		defer a.Close()
		defer b.Close()
		ta, err := a.Campaign(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		won := make(chan *recovery.Term, 1)
		errs := make(chan error, 1)
		go func() {
			tb, err := b.Campaign(ctx(t))
			if err != nil {
				errs <- err
				return
			}
			won <- tb
		}()
		waitLeader(t, b, "aloha://127.0.0.1:7001")
		select {
		case <-won:
			t.Fatal("two leaders at once")
		case err := <-errs:
			t.Fatalf("standby Campaign = %v", err)
		default:
		}
		ta.Resign()
		select {
		case <-ta.Lost:
		case <-time.After(10 * time.Second):
			t.Fatal("Resign did not close Lost")
		}
		select {
		case tb := <-won:
			if tb.Epoch <= ta.Epoch {
				t.Fatalf("new epoch %d not above %d", tb.Epoch, ta.Epoch)
			}
		case err := <-errs:
			t.Fatalf("standby Campaign = %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("standby did not take over within 30 s of the resignation")
		}
		waitLeader(t, a, "aloha://127.0.0.1:7002")
	})
	t.Run("EpochsGrowAcrossTerms", func(t *testing.T) {
		newElector := cluster(t)
		var last uint64
		for i := range 3 {
			e := newElector(fmt.Sprintf("aloha://127.0.0.1:%d", 7100+i))
			term, err := e.Campaign(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if term.Epoch <= last {
				t.Fatalf("term %d epoch %d not above %d", i, term.Epoch, last)
			}
			last = term.Epoch
			e.Close() // closing resigns
		}
	})
	t.Run("CampaignStopsWithItsContext", func(t *testing.T) {
		newElector := cluster(t)
		a, b := newElector("aloha://127.0.0.1:7001"), newElector("aloha://127.0.0.1:7002")
		defer a.Close()
		defer b.Close()
		if _, err := a.Campaign(ctx(t)); err != nil {
			t.Fatal(err)
		}
		c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if term, err := b.Campaign(c); err == nil {
			t.Fatalf("standby won term %+v while the leader holds", term)
		}
	})
}

func waitLeader(t *testing.T, e recovery.Elector, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for e.Leader() != want {
		if time.Now().After(deadline) {
			t.Fatalf("Leader() = %q, want %q", e.Leader(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
