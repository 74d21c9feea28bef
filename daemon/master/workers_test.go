package master

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/internal/testutil"
	"github.com/alohasched/aloha/wire"
)

// DESIGN §4: "a worker silent for aloha.worker.timeout is DEAD; its apps
// are relaunched elsewhere if supervise, else ERROR."
func TestLostWorkerRelaunchesSupervisedAndFailsOthers(t *testing.T) {
	tm := startMaster(t, func(o *Options) { o.WorkerTimeout = 300 * time.Millisecond; o.SpreadOut = false })
	doomed := newFakeWorker(t, tm, 2, 2048)
	doomed.mustRegister()
	sup := shell("supervised")
	sup.Supervise = true
	supID := tm.submit(t, sup)
	plainID := tm.submit(t, shell("plain"))
	for range 2 {
		l := next[*api.LaunchApp](doomed)
		doomed.report(l.AppID, l.Run, api.AppRunning, nil)
	}
	tm.waitState(t, supID, api.AppRunning)
	tm.waitState(t, plainID, api.AppRunning)
	// A healthy worker joins and keeps heartbeating; the doomed one falls silent.
	healthy := newFakeWorker(t, tm, 2, 2048)
	healthy.mustRegister()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				healthy.heartbeat()
			}
		}
	}()
	defer func() { close(stop); <-done }()

	old := tm.waitState(t, supID, api.AppRelaunching)
	if old.RelaunchedAs == "" || !strings.Contains(old.Message, "lost") {
		t.Fatalf("old supervised app = %+v", old)
	}
	fresh := tm.status(t, old.RelaunchedAs)
	if fresh.RelaunchedFrom != supID {
		t.Fatalf("new app = %+v, want RelaunchedFrom %s", fresh, supID)
	}
	l := next[*api.LaunchApp](healthy)
	if l.AppID != old.RelaunchedAs {
		t.Fatalf("healthy worker launched %s, want %s", l.AppID, old.RelaunchedAs)
	}
	plain := tm.waitState(t, plainID, api.AppError)
	if !strings.Contains(plain.Message, doomed.id) {
		t.Fatalf("unsupervised app message %q does not name the lost worker", plain.Message)
	}
	if w := tm.workers(t)[doomed.id]; w.State != api.WorkerDead {
		t.Fatalf("silent worker is %s", w.State)
	}
	evs, _ := tm.Events().Since(0, 0)
	var relaunched, lost bool
	for _, e := range evs {
		relaunched = relaunched || (e.Type == api.EventAppRelaunched && e.AppID == supID && e.NewAppID == old.RelaunchedAs)
		lost = lost || (e.Type == api.EventWorkerLost && e.WorkerID == doomed.id)
	}
	if !relaunched || !lost {
		t.Fatalf("events lack AppRelaunched (%v) or WorkerLost (%v): %+v", relaunched, lost, evs)
	}
	tm.checkCounts(t) // kept counts agree with the apps after a relaunch
}

// A silent worker is found within 1.25× the timeout: the check runs every
// timeout/4. The check is driven here with explicit times at every phase
// of the tick relative to the last heartbeat.
func TestSilentWorkerFoundWithinOneAndAQuarterTimeouts(t *testing.T) {
	const timeout = 60 * time.Second
	tick := timeout / 4
	for phase := time.Duration(0); phase < tick; phase += tick / 7 {
		m, err := New(Options{Node: mustClientNode(t), URL: "aloha://127.0.0.1:1", Log: quiet(), WorkerTimeout: timeout, DeadWorkerPersistence: 15, RetainedApps: 1})
		if err != nil {
			t.Fatal(err)
		}
		m.ctx, m.cancel = t.Context(), func() {}
		last := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		w := &worker{info: api.WorkerInfo{ID: "w", Addr: "127.0.0.1:2", State: api.WorkerAlive, LastHeartbeat: last}, apps: map[string]*app{}}
		m.workers["w"], m.byAddr["127.0.0.1:2"] = w, w
		var found time.Time
		for now := last.Add(phase); found.IsZero(); now = now.Add(tick) {
			m.checkWorkers(now)
			if w.info.State == api.WorkerDead {
				found = now
			}
		}
		if delay := found.Sub(last); delay <= timeout || delay > timeout+tick {
			t.Fatalf("phase %s: found after %s, want within (%s, %s]", phase, delay, timeout, timeout+tick)
		}
	}
}

func TestDeadWorkersAreCulled(t *testing.T) {
	tm := startMaster(t, func(o *Options) { o.WorkerTimeout = 100 * time.Millisecond; o.DeadWorkerPersistence = 2 })
	fw := newFakeWorker(t, tm, 1, 1024)
	fw.mustRegister()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if _, ok := tm.workers(t)[fw.id]; ok {
			return errString("dead worker still listed")
		}
		return nil
	})
}

type errString string

func (e errString) Error() string { return string(e) }

// DESIGN §4: "On re-registration a worker reports its running apps; the
// master kills apps it does not know (no duplicates after partitions)."
func TestReregistrationReconciles(t *testing.T) {
	tm := startMaster(t, nil)
	fw := newFakeWorker(t, tm, 4, 4096)
	fw.mustRegister()
	keep := tm.submit(t, shell("keep"))
	gone := tm.submit(t, shell("gone"))
	for range 2 {
		l := next[*api.LaunchApp](fw)
		fw.report(l.AppID, l.Run, api.AppRunning, nil)
	}
	tm.waitState(t, keep, api.AppRunning)
	tm.waitState(t, gone, api.AppRunning)
	unknown := "app-20200101000000-0042"
	fw.mustRegister(
		api.RunningApp{AppID: keep, Run: 1, State: api.AppRunning},
		api.RunningApp{AppID: unknown, Run: 1, State: api.AppRunning},
	)
	kill := next[*api.KillApp](fw)
	if kill.AppID != unknown {
		t.Fatalf("killed %s, want the unknown %s", kill.AppID, unknown)
	}
	if info := tm.status(t, keep); info.State != api.AppRunning {
		t.Fatalf("reported app is %s", info.State)
	}
	if info := tm.waitState(t, gone, api.AppError); !strings.Contains(info.Message, "no longer running") {
		t.Fatalf("unreported app: %+v", info)
	}
	// A run that ended while the master could not be told is recorded
	// with its real outcome.
	fw.mustRegister(api.RunningApp{AppID: keep, Run: 1, State: api.AppFailed, ExitCode: intp(7), Message: "exited with status 7"})
	if info := tm.waitState(t, keep, api.AppFailed); info.ExitCode == nil || *info.ExitCode != 7 {
		t.Fatalf("ended-while-away app: %+v", info)
	}
}

// A worker restarted on the same address (new id) replaces the departed
// one at once and keeps the runs it re-attached.
func TestRestartedWorkerReplacesDepartedOne(t *testing.T) {
	tm := startMaster(t, nil)
	fw := newFakeWorker(t, tm, 2, 2048)
	fw.mustRegister()
	id := tm.submit(t, shell("long"))
	l := next[*api.LaunchApp](fw)
	fw.report(id, l.Run, api.AppRunning, nil)
	tm.waitState(t, id, api.AppRunning)
	// The process dies: its connection closes. The new one comes back on
	// the same address with a new id.
	addr := fw.addr()
	fw.node.Close()
	testutil.WaitFor(t, 10*time.Second, func() error {
		var connected bool
		done := make(chan struct{})
		tm.post(func() { connected = tm.byAddr[addr] != nil && tm.byAddr[addr].connected; close(done) })
		<-done
		if connected {
			return errString("master still sees the old connection")
		}
		return nil
	})
	reborn := newFakeWorkerAt(t, tm, addr, 2, 2048)
	reborn.id = fw.id + "-restarted" // ids have one-second resolution
	reborn.mustRegister(api.RunningApp{AppID: id, Run: l.Run, State: api.AppRunning})
	info := tm.status(t, id)
	if info.State != api.AppRunning || info.WorkerID != reborn.id {
		t.Fatalf("re-attached app = %+v, want RUNNING on %s", info, reborn.id)
	}
	if w := tm.workers(t)[fw.id]; w.State != api.WorkerDead {
		t.Fatalf("old worker is %s, want DEAD", w.State)
	}
}

// A worker restarted on another port re-attaches the runs of its former
// self; they move to it instead of being killed as unknown.
func TestRunsMoveToARestartedWorkerOnAnotherPort(t *testing.T) {
	tm := startMaster(t, nil)
	old := newFakeWorker(t, tm, 2, 2048)
	old.mustRegister()
	running := tm.submit(t, shell("running"))
	ended := tm.submit(t, shell("ended"))
	for range 2 {
		l := next[*api.LaunchApp](old)
		old.report(l.AppID, l.Run, api.AppRunning, nil)
	}
	tm.waitState(t, running, api.AppRunning)
	old.node.Close()
	reborn := newFakeWorker(t, tm, 2, 2048)
	reborn.id += "-restarted"
	reborn.mustRegister(
		api.RunningApp{AppID: running, Run: 1, State: api.AppRunning, LaunchedBy: old.id},
		api.RunningApp{AppID: ended, Run: 1, State: api.AppFailed, ExitCode: intp(5), LaunchedBy: old.id},
	)
	if info := tm.status(t, running); info.State != api.AppRunning || info.WorkerID != reborn.id {
		t.Fatalf("moved run = %+v", info)
	}
	if info := tm.waitState(t, ended, api.AppFailed); info.ExitCode == nil || *info.ExitCode != 5 {
		t.Fatalf("run that ended meanwhile = %+v", info)
	}
	none[*api.KillApp](reborn)
}

// A worker declared DEAD that comes back (a healed partition) registers
// again; the runs the master moved elsewhere are killed on it.
func TestDeadWorkerComesBack(t *testing.T) {
	tm := startMaster(t, func(o *Options) { o.WorkerTimeout = 200 * time.Millisecond })
	fw := newFakeWorker(t, tm, 2, 2048)
	fw.mustRegister()
	id := tm.submit(t, shell("x"))
	l := next[*api.LaunchApp](fw)
	fw.report(id, l.Run, api.AppRunning, nil)
	tm.waitState(t, id, api.AppError)
	fw.mustRegister(api.RunningApp{AppID: id, Run: l.Run, State: api.AppRunning})
	if k := next[*api.KillApp](fw); k.AppID != id {
		t.Fatalf("killed %s, want %s", k.AppID, id)
	}
	if w := tm.workers(t)[fw.id]; w.State != api.WorkerAlive {
		t.Fatalf("returning worker is %s", w.State)
	}
}

// A worker declared DEAD that answers a new leader's MasterChanged late is
// told to register again (which rebuilds its state); the master does not
// trip over the worker it had given up.
func TestLateSchedulerStateOfADeadWorker(t *testing.T) {
	tm := startMaster(t, func(o *Options) { o.WorkerTimeout = 200 * time.Millisecond })
	fw := newFakeWorker(t, tm, 2, 2048)
	fw.mustRegister()
	id := tm.submit(t, shell("x"))
	l := next[*api.LaunchApp](fw)
	fw.report(id, l.Run, api.AppRunning, nil)
	tm.waitState(t, id, api.AppError)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := fw.ep.Ask(ctx, fw.master, &api.WorkerSchedulerState{WorkerID: fw.id, Session: 9,
		Apps: []api.RunningApp{{AppID: id, Run: l.Run, State: api.AppRunning}}}); err != nil {
		t.Fatal(err)
	}
	next[*api.ReconnectWorker](fw)
	if info := tm.info(t); info.State != api.MasterAlive {
		t.Fatalf("master is %s", info.State)
	}
}

// A worker that refuses a launch for its session is told to register
// again (which reconciles it), and one that has seen a newer leadership
// term makes this master step down.
func TestRefusedOrders(t *testing.T) {
	tm := startMaster(t, nil)
	fw := newFakeWorker(t, tm, 2, 2048)
	fw.mustRegister()
	fw.mu.Lock()
	fw.refuse = func(order any) error {
		if _, ok := order.(*api.LaunchApp); ok {
			return &wire.RemoteError{Code: api.CodeStaleSession, Message: "session 1 is not current"}
		}
		return nil
	}
	fw.mu.Unlock()
	tm.submit(t, shell("x"))
	next[*api.LaunchApp](fw)
	next[*api.ReconnectWorker](fw)
}
