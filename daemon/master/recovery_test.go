package master

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/internal/testutil"
)

// memStore is an in-memory Store for the master's own tests; the real
// stores pass the conformance suite in daemon/recovery.
type memStore struct {
	mu    sync.Mutex
	state *recovery.State
	fail  error
}

func newMemStore() *memStore { return &memStore{state: recovery.NewState()} }

func (s *memStore) Commit(ctx context.Context, b *recovery.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.state.Apply(b)
	return nil
}

func (s *memStore) Load(ctx context.Context) (*recovery.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Snapshot(), nil
}

func (s *memStore) Close() error { return nil }

// gateElector grants terms when the test says so.
type gateElector struct {
	grant  chan uint64
	leader string
	mu     sync.Mutex
}

func newGateElector() *gateElector { return &gateElector{grant: make(chan uint64, 1)} }

func (e *gateElector) Campaign(ctx context.Context) (*recovery.Term, error) {
	select {
	case epoch := <-e.grant:
		lost := make(chan struct{})
		var once sync.Once
		return &recovery.Term{Epoch: epoch, Lost: lost, Resign: func() { once.Do(func() { close(lost) }) }}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (e *gateElector) Leader() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leader
}

func (e *gateElector) Close() error { return nil }

func (tm *testMaster) info(t *testing.T) *api.MasterInfo {
	t.Helper()
	v, err := tm.ask(t, &api.MasterStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return v.(*api.MasterInfo)
}

func (tm *testMaster) waitMasterState(t *testing.T, want api.MasterState) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if got := tm.info(t).State; got != want {
			return errString("master is " + string(got) + ", want " + string(want))
		}
		return nil
	})
}

// DESIGN §5: a standby answers every request with "standby" and the
// leader's address when known.
func TestStandbyRefersToTheLeader(t *testing.T) {
	el := newGateElector()
	el.leader = "aloha://10.1.1.1:7077"
	tm := startMaster(t, func(o *Options) { o.Elector = el; o.Store = newMemStore() })
	_, err := tm.ask(t, &api.SubmitApp{Spec: shell("x")})
	var code string
	if code = remoteCode(err); code != api.CodeStandby || !strings.Contains(err.Error(), "the leader is aloha://10.1.1.1:7077") {
		t.Fatalf("submit to a standby = %v", err)
	}
	info := tm.info(t)
	if info.State != api.MasterStandby || info.Leader != "aloha://10.1.1.1:7077" {
		t.Fatalf("standby info = %+v", info)
	}
}

// DESIGN §5: the new leader reads the state, marks workers and launched
// apps UNKNOWN, tells each worker the master changed; runs the workers
// report are re-attached, launches that never happened are queued again,
// waiting apps are queued, and finished ones are still listed.
func TestRecoveryReattachesRequeuesAndKeepsHistory(t *testing.T) {
	store := newMemStore()
	el := newGateElector()
	tm := startMaster(t, func(o *Options) { o.Elector = el; o.Store = store })
	fw := newFakeWorker(t, tm, 4, 4096)
	host, port := "127.0.0.1", 0
	_ = port
	now := time.Now().UTC()
	stored := &recovery.Batch{}
	stored.PutWorker(api.WorkerInfo{ID: fw.id, Host: host, Addr: fw.addr(), State: api.WorkerAlive, Cores: 4, Memory: 4096, Kinds: []string{"shell"}})
	mk := func(id string, st api.AppState, hist ...api.AppState) api.AppInfo {
		info := api.AppInfo{ID: id, Spec: shell(id).WithDefaults(), State: st, SubmittedAt: now}
		for _, h := range hist {
			info.History = append(info.History, api.StateChange{State: h, Time: now})
			if h == api.AppLaunching {
				info.Run++
			}
		}
		if st != api.AppSubmitted && !st.IsFinal() {
			info.WorkerID, info.WorkerAddr = fw.id, fw.addr()
		}
		if st.IsFinal() {
			info.EndedAt = now
		}
		return info
	}
	running := "app-20260101000000-0001"
	launching := "app-20260101000000-0002"
	waiting := "app-20260101000000-0003"
	done := "app-20260101000000-0004"
	stored.PutApp(mk(running, api.AppRunning, api.AppSubmitted, api.AppLaunching, api.AppRunning))
	stored.PutApp(mk(launching, api.AppLaunching, api.AppSubmitted, api.AppLaunching))
	stored.PutApp(mk(waiting, api.AppSubmitted, api.AppSubmitted))
	stored.PutApp(mk(done, api.AppFinished, api.AppSubmitted, api.AppLaunching, api.AppRunning, api.AppFinished))
	store.Commit(context.Background(), stored)

	el.grant <- 42
	mc := next[*api.MasterChanged](fw)
	if mc.Epoch != 42 || mc.MasterURL != tm.opts.URL {
		t.Fatalf("master changed = %+v", mc)
	}
	if st := tm.status(t, running); st.State != api.AppUnknown {
		t.Fatalf("running app during recovery is %s, want UNKNOWN", st.State)
	}
	// A submission while recovering is accepted but not scheduled yet.
	late := tm.submit(t, shell("late"))
	if info := tm.info(t); info.State != api.MasterRecovering {
		t.Fatalf("master is %s, want RECOVERING", info.State)
	}
	none[*api.LaunchApp](fw)

	// The worker answers with the run it has.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := fw.ep.Ask(ctx, fw.master, &api.WorkerSchedulerState{WorkerID: fw.id, Apps: []api.RunningApp{{AppID: running, Run: 1, State: api.AppRunning}}}); err != nil {
		t.Fatal(err)
	}
	tm.waitMasterState(t, api.MasterAlive)
	if st := tm.status(t, running); st.State != api.AppRunning {
		t.Fatalf("re-attached app is %s", st.State)
	}
	if st := tm.status(t, done); st.State != api.AppFinished {
		t.Fatalf("finished app lost its history: %+v", st)
	}
	launched := map[string]int{}
	for range 3 {
		l := next[*api.LaunchApp](fw)
		if l.Epoch != 42 {
			t.Fatalf("launch with epoch %d, want 42", l.Epoch)
		}
		launched[l.AppID] = l.Run
	}
	if launched[launching] != 2 || launched[waiting] != 1 || launched[late] != 1 {
		t.Fatalf("launches after recovery = %v, want %s run 2, %s and %s run 1", launched, launching, waiting, late)
	}
	// Ids issued by the new leader never repeat stored ones.
	if late <= done {
		t.Fatalf("new id %s does not sort after stored %s", late, done)
	}
	tm.checkCounts(t) // kept counts agree with the apps after a recovery
}

func TestRecoveryLosesWorkersThatDoNotAnswer(t *testing.T) {
	store := newMemStore()
	el := newGateElector()
	tm := startMaster(t, func(o *Options) { o.Elector = el; o.Store = store; o.WorkerTimeout = 300 * time.Millisecond })
	now := time.Now().UTC()
	stored := &recovery.Batch{}
	stored.PutWorker(api.WorkerInfo{ID: "worker-gone", Host: "127.0.0.1", Port: 1, Addr: "127.0.0.1:1", State: api.WorkerAlive, Cores: 2, Memory: 2048})
	sup := shell("sup").WithDefaults()
	sup.Supervise = true
	stored.PutApp(api.AppInfo{ID: "app-20260101000000-0001", Spec: sup, State: api.AppRunning, WorkerID: "worker-gone", SubmittedAt: now, Run: 1,
		History: []api.StateChange{{State: api.AppLaunching, Time: now}, {State: api.AppRunning, Time: now}}})
	stored.PutApp(api.AppInfo{ID: "app-20260101000000-0002", Spec: shell("plain").WithDefaults(), State: api.AppRunning, WorkerID: "worker-gone", SubmittedAt: now, Run: 1,
		History: []api.StateChange{{State: api.AppLaunching, Time: now}, {State: api.AppRunning, Time: now}}})
	store.Commit(context.Background(), stored)
	el.grant <- 7
	tm.waitMasterState(t, api.MasterAlive)
	if st := tm.status(t, "app-20260101000000-0001"); st.State != api.AppRelaunching || st.RelaunchedAs == "" {
		t.Fatalf("supervised app on a silent worker = %+v", st)
	}
	if st := tm.status(t, "app-20260101000000-0002"); st.State != api.AppError {
		t.Fatalf("unsupervised app on a silent worker = %+v", st)
	}
}

// Losing the term stops the master at once: it answers as a standby and
// sends no order of the old epoch afterwards.
func TestLosingTheTermStopsAtOnce(t *testing.T) {
	el := newGateElector()
	tm := startMaster(t, func(o *Options) { o.Elector = el; o.Store = newMemStore() })
	var term *recovery.Term
	el.grant <- 5
	tm.waitMasterState(t, api.MasterAlive)
	done := make(chan struct{})
	tm.post(func() { term = tm.term; close(done) })
	<-done
	fw := newFakeWorker(t, tm, 1, 1024)
	fw.mustRegister()
	term.Resign()
	tm.waitMasterState(t, api.MasterStandby)
	if _, err := tm.ask(t, &api.SubmitApp{Spec: shell("x")}); remoteCode(err) != api.CodeStandby {
		t.Fatalf("submit after losing the term = %v", err)
	}
	// A new term recovers from the store: the worker is known again.
	el.grant <- 6
	mc := next[*api.MasterChanged](fw)
	if mc.Epoch != 6 {
		t.Fatalf("second term epoch = %d", mc.Epoch)
	}
}

// A commit that fails is never acknowledged, and the leader steps down.
func TestFailedCommitIsNotAcknowledged(t *testing.T) {
	store := newMemStore()
	el := newGateElector()
	tm := startMaster(t, func(o *Options) { o.Elector = el; o.Store = store })
	el.grant <- 3
	tm.waitMasterState(t, api.MasterAlive)
	store.mu.Lock()
	store.fail = errors.New("disk on fire")
	store.mu.Unlock()
	_, err := tm.ask(t, &api.SubmitApp{Spec: shell("x")})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("submit whose commit failed = %v", err)
	}
	tm.waitMasterState(t, api.MasterStandby)
}

// A kill that was acknowledged survives a failover: the new leader sends
// it again when the worker reports the run.
func TestAcknowledgedKillSurvivesFailover(t *testing.T) {
	store := newMemStore()
	el := newGateElector()
	tm := startMaster(t, func(o *Options) { o.Elector = el; o.Store = store })
	fw := newFakeWorker(t, tm, 2, 2048)
	now := time.Now().UTC()
	stored := &recovery.Batch{}
	stored.PutWorker(api.WorkerInfo{ID: fw.id, Host: "127.0.0.1", Addr: fw.addr(), State: api.WorkerAlive, Cores: 2, Memory: 2048, Kinds: []string{"shell"}})
	id := "app-20260101000000-0001"
	stored.PutApp(api.AppInfo{ID: id, Spec: shell("k").WithDefaults(), State: api.AppRunning, WorkerID: fw.id, WorkerAddr: fw.addr(),
		SubmittedAt: now, Run: 1, KillRequested: true})
	store.Commit(context.Background(), stored)
	el.grant <- 11
	next[*api.MasterChanged](fw)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := fw.ep.Ask(ctx, fw.master, &api.WorkerSchedulerState{WorkerID: fw.id, Session: 1, Apps: []api.RunningApp{{AppID: id, Run: 1, State: api.AppRunning}}}); err != nil {
		t.Fatal(err)
	}
	if k := next[*api.KillApp](fw); k.AppID != id || k.Epoch != 11 || k.Session != 1 {
		t.Fatalf("kill after failover = %+v", k)
	}
	fw.report(id, 1, api.AppFailed, intp(143))
	tm.waitState(t, id, api.AppKilled)
}
