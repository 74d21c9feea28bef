package master

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

func remoteCode(err error) string {
	var re *wire.RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}

func TestSubmitRunFinish(t *testing.T) {
	tm := startMaster(t, nil)
	fw := newFakeWorker(t, tm, 4, 4096)
	reg := fw.mustRegister()
	if reg.MasterURL != tm.opts.URL || reg.Epoch == 0 || reg.HeartbeatInterval != tm.opts.WorkerTimeout/4 {
		t.Fatalf("registration reply = %+v", reg)
	}
	id := tm.submit(t, shell("one"))
	if !api.ValidAppID(id) {
		t.Fatalf("submit returned id %q", id)
	}
	launch := next[*api.LaunchApp](fw)
	if launch.AppID != id || launch.Run != 1 || launch.Epoch != reg.Epoch || launch.Spec.Name != "one" {
		t.Fatalf("launch order = %+v", launch)
	}
	if info := tm.status(t, id); info.State != api.AppLaunching || info.WorkerID != fw.id || info.WorkerAddr != fw.addr() {
		t.Fatalf("after launch: %+v", info)
	}
	w := tm.workers(t)[fw.id]
	if w.CoresUsed != 1 || w.MemoryUsed != 128 {
		t.Fatalf("worker resources while running: %+v", w)
	}
	fw.report(id, 1, api.AppRunning, nil)
	tm.waitState(t, id, api.AppRunning)
	fw.report(id, 1, api.AppFinished, intp(0))
	info := tm.waitState(t, id, api.AppFinished)
	if info.ExitCode == nil || *info.ExitCode != 0 || info.EndedAt.IsZero() {
		t.Fatalf("finished app = %+v", info)
	}
	var states []api.AppState
	for _, h := range info.History {
		states = append(states, h.State)
	}
	if got := joinStates(states); got != "SUBMITTED,LAUNCHING,RUNNING,FINISHED" {
		t.Fatalf("history = %v", states)
	}
	if w := tm.workers(t)[fw.id]; w.CoresUsed != 0 || w.MemoryUsed != 0 {
		t.Fatalf("resources not released: %+v", w)
	}
}

func joinStates(s []api.AppState) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = string(v)
	}
	return strings.Join(parts, ",")
}

func TestSubmitValidation(t *testing.T) {
	tm := startMaster(t, nil)
	_, err := tm.ask(t, &api.SubmitApp{Spec: api.AppSpec{EntryPoint: "shell"}})
	if remoteCode(err) != api.CodeInvalid || !strings.Contains(err.Error(), "name") {
		t.Fatalf("submit without a name = %v, want invalid naming the field", err)
	}
	_, err = tm.ask(t, &api.SubmitApp{Spec: api.AppSpec{Name: "x", EntryPoint: "shell", Cores: -1}})
	if remoteCode(err) != api.CodeInvalid || !strings.Contains(err.Error(), "cores") {
		t.Fatalf("submit with cores -1 = %v", err)
	}
	_, err = tm.ask(t, &api.SubmitApp{Spec: api.AppSpec{Name: "x", EntryPoint: "flink"}})
	if remoteCode(err) != api.CodeRefused || !strings.Contains(err.Error(), `unknown application kind "flink"; known kinds: shell`) {
		t.Fatalf("submit of an unknown kind = %v", err)
	}
	// A kind a worker reports becomes known.
	fw := newFakeWorker(t, tm, 1, 1024)
	fw.kinds = []string{"shell", "flink"}
	fw.mustRegister()
	tm.submit(t, api.AppSpec{Name: "x", EntryPoint: "flink"})
}

func TestRegistrationRules(t *testing.T) {
	tm := startMaster(t, nil)
	fw := newFakeWorker(t, tm, 2, 2048)
	first := fw.mustRegister()
	// The same id from the same address is idempotent.
	again := fw.mustRegister()
	if again.Epoch != first.Epoch || len(tm.workers(t)) != 1 {
		t.Fatalf("re-registration changed things: %+v, %d workers", again, len(tm.workers(t)))
	}
	// Another worker id at a connected worker's address is refused.
	impostor := &fakeWorker{t: t, id: "worker-20260101000000-127.0.0.1-1", node: fw.node, ep: fw.ep, master: fw.master, cores: 2, memory: 2048, kinds: fw.kinds}
	if _, err := impostor.register(); remoteCode(err) != api.CodeRefused || !strings.Contains(err.Error(), "already registered by "+fw.id) {
		t.Fatalf("second id at the same address = %v", err)
	}
	// A known id from another address is refused.
	other := newFakeWorker(t, tm, 2, 2048)
	other.id = fw.id
	if _, err := other.register(); remoteCode(err) != api.CodeRefused || !strings.Contains(err.Error(), "already registered from "+fw.addr()) {
		t.Fatalf("same id from another address = %v", err)
	}
	// Nonsense resources are refused.
	bad := newFakeWorker(t, tm, 0, 2048)
	if _, err := bad.register(); remoteCode(err) != api.CodeInvalid {
		t.Fatalf("zero cores = %v", err)
	}
}

func TestSpreadAndPack(t *testing.T) {
	for _, spread := range []bool{true, false} {
		tm := startMaster(t, func(o *Options) { o.SpreadOut = spread })
		a := newFakeWorker(t, tm, 4, 4096)
		b := newFakeWorker(t, tm, 4, 4096)
		a.mustRegister()
		b.mustRegister()
		placed := map[string]int{}
		for range 4 {
			id := tm.submit(t, shell("s"))
			info := tm.waitState(t, id, api.AppLaunching)
			placed[info.WorkerID]++
		}
		if spread && (placed[a.id] != 2 || placed[b.id] != 2) {
			t.Errorf("spread placed %v, want 2 and 2", placed)
		}
		if !spread && len(placed) != 1 {
			t.Errorf("pack placed %v, want all on one worker", placed)
		}
	}
}

func TestNeverFitsIsExplained(t *testing.T) {
	tm := startMaster(t, nil)
	fw := newFakeWorker(t, tm, 8, 4096)
	fw.mustRegister()
	spec := shell("huge")
	spec.Cores = 64
	id := tm.submit(t, spec)
	info := tm.waitStateMsg(t, id, "waiting: needs 64 cores, largest worker has 8")
	if info.State != api.AppSubmitted {
		t.Fatalf("never-fitting app is %s", info.State)
	}
}

func (tm *testMaster) waitStateMsg(t *testing.T, id, msg string) *api.AppInfo {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info := tm.status(t, id)
		if info.Message == msg {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s message = %q, want %q", id, info.Message, msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKill(t *testing.T) {
	tm := startMaster(t, nil)
	// Waiting: killed at once.
	id := tm.submit(t, shell("waiting"))
	v, err := tm.ask(t, &api.KillAppRequest{AppID: id})
	if err != nil || v.(*api.KillAppResponse).State != api.AppKilled {
		t.Fatalf("kill of a waiting app = %+v, %v", v, err)
	}
	// Running: the worker is told; KILLED once it reports.
	fw := newFakeWorker(t, tm, 1, 1024)
	fw.mustRegister()
	id = tm.submit(t, shell("running"))
	launch := next[*api.LaunchApp](fw)
	fw.report(id, launch.Run, api.AppRunning, nil)
	tm.waitState(t, id, api.AppRunning)
	if _, err := tm.ask(t, &api.KillAppRequest{AppID: id}); err != nil {
		t.Fatal(err)
	}
	kill := next[*api.KillApp](fw)
	if kill.AppID != id || kill.Run != launch.Run || kill.Epoch != launch.Epoch {
		t.Fatalf("kill order = %+v", kill)
	}
	// Whatever status the process ends with, a requested kill is KILLED.
	fw.report(id, launch.Run, api.AppFailed, intp(143))
	tm.waitState(t, id, api.AppKilled)
	// Ended: refused; unknown: not found.
	if _, err := tm.ask(t, &api.KillAppRequest{AppID: id}); remoteCode(err) != api.CodeRefused {
		t.Fatalf("kill of an ended app = %v", err)
	}
	if _, err := tm.ask(t, &api.KillAppRequest{AppID: "app-20200101000000-0001"}); remoteCode(err) != api.CodeNotFound {
		t.Fatalf("kill of an unknown app = %v", err)
	}
}

func TestRestartOnFailure(t *testing.T) {
	tm := startMaster(t, nil)
	fw := newFakeWorker(t, tm, 1, 1024)
	fw.mustRegister()
	spec := shell("flaky")
	spec.Restart = api.RestartPolicy{Policy: api.RestartOnFailure, MaxAttempts: 2, Backoff: api.Duration(10 * time.Millisecond)}
	id := tm.submit(t, spec)
	for run := 1; run <= 3; run++ {
		launch := next[*api.LaunchApp](fw)
		if launch.AppID != id || launch.Run != run {
			t.Fatalf("launch %d = %+v", run, launch)
		}
		fw.report(id, run, api.AppRunning, nil)
		fw.report(id, run, api.AppFailed, intp(3))
	}
	info := tm.waitState(t, id, api.AppFailed)
	if info.Restarts != 2 || info.ExitCode == nil || *info.ExitCode != 3 {
		t.Fatalf("after the last attempt: %+v", info)
	}
	none[*api.LaunchApp](fw)
	tm.checkCounts(t) // kept counts agree with the apps after restarts
}

func TestStaleReportsAreIgnored(t *testing.T) {
	tm := startMaster(t, nil)
	fw := newFakeWorker(t, tm, 1, 1024)
	fw.mustRegister()
	id := tm.submit(t, shell("x"))
	launch := next[*api.LaunchApp](fw)
	fw.report(id, launch.Run+1, api.AppFinished, intp(0)) // a run that does not exist
	other := newFakeWorker(t, tm, 1, 1024)
	other.mustRegister()
	other.report(id, launch.Run, api.AppFinished, intp(0)) // a worker it does not run on
	if info := tm.status(t, id); info.State != api.AppLaunching {
		t.Fatalf("stale reports changed the app: %+v", info)
	}
}

func TestRetention(t *testing.T) {
	tm := startMaster(t, func(o *Options) { o.RetainedApps = 3 })
	var ids []string
	for range 5 {
		id := tm.submit(t, shell("short"))
		if _, err := tm.ask(t, &api.KillAppRequest{AppID: id}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	v, err := tm.ask(t, &api.ListAppsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	apps := v.(*api.AppList).Apps
	if len(apps) != 3 || apps[0].ID != ids[4] || apps[2].ID != ids[2] {
		t.Fatalf("retained %d apps (%v), want the newest 3 newest first", len(apps), apps)
	}
	if _, err := tm.ask(t, &api.AppStatusRequest{AppID: ids[0]}); remoteCode(err) != api.CodeNotFound {
		t.Fatalf("status of a dropped app = %v", err)
	}
}

func TestListFiltersByState(t *testing.T) {
	tm := startMaster(t, nil)
	waiting := tm.submit(t, shell("w"))
	killed := tm.submit(t, shell("k"))
	tm.ask(t, &api.KillAppRequest{AppID: killed})
	v, _ := tm.ask(t, &api.ListAppsRequest{States: []api.AppState{api.AppSubmitted}})
	apps := v.(*api.AppList).Apps
	if len(apps) != 1 || apps[0].ID != waiting {
		t.Fatalf("list SUBMITTED = %+v", apps)
	}
	v, _ = tm.ask(t, &api.ListAppsRequest{Limit: 1})
	if apps := v.(*api.AppList).Apps; len(apps) != 1 || apps[0].ID != waiting {
		t.Fatalf("list limit 1 = %+v, want the active one first", apps)
	}
}

func TestMasterInfo(t *testing.T) {
	tm := startMaster(t, nil)
	fw := newFakeWorker(t, tm, 3, 3000)
	fw.mustRegister()
	tm.submit(t, shell("a"))
	next[*api.LaunchApp](fw)
	v, err := tm.ask(t, &api.MasterStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	info := v.(*api.MasterInfo)
	if info.State != api.MasterAlive || info.AliveWorkers != 1 || info.Cores != 3 || info.CoresUsed != 1 || info.Memory != 3000 || info.MemoryUsed != 128 || info.ActiveApps != 1 || info.Leader != tm.opts.URL {
		t.Fatalf("master info = %+v", info)
	}
}

func TestUnknownRequest(t *testing.T) {
	tm := startMaster(t, nil)
	if _, err := tm.ask(t, &api.LogChunk{}); remoteCode(err) != api.CodeInvalid {
		t.Fatalf("a message the master does not handle = %v", err)
	}
}
