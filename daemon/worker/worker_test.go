package worker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/internal/testutil"
	"github.com/alohasched/aloha/wire"
)

func TestRegistersAndHeartbeats(t *testing.T) {
	fm := newFakeMaster(t)
	tw := startWorker(t, fm, t.TempDir(), nil)
	regs := fm.registrations()
	if len(regs) != 1 {
		t.Fatalf("%d registrations", len(regs))
	}
	r := regs[0]
	if r.ID != tw.ID() || r.Cores != 4 || r.Memory != 4096 || !contains(r.Kinds, "shell") || !contains(r.Kinds, "me.jrwang.app.SimpleProcess") {
		t.Fatalf("registration = %+v", r)
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		fm.mu.Lock()
		defer fm.mu.Unlock()
		if fm.hbs < 3 {
			return errors.New("fewer than 3 heartbeats")
		}
		return nil
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestRunsAnApplication(t *testing.T) {
	fm := newFakeMaster(t)
	tw := startWorker(t, fm, t.TempDir(), nil)
	id := newID()
	spec := shellSpec(`echo "$ALOHA_APP_ID $ALOHA_APP_NAME $ALOHA_CORES $ALOHA_MEMORY_MB $ALOHA_LIBS $EXTRA"; pwd; echo oops >&2`)
	spec.Libs = []string{"/opt/a.jar", "/opt/b.jar"}
	spec.Env = map[string]string{"EXTRA": "extra-value"}
	fm.launch(id, 1, spec)
	fm.waitReport(id, api.AppRunning)
	done := fm.waitReport(id, api.AppFinished)
	if done.ExitCode == nil || *done.ExitCode != 0 || done.Run != 1 || done.WorkerID != tw.ID() {
		t.Fatalf("finished report = %+v", done)
	}
	dir := appDir(tw, id)
	out := readFile(t, filepath.Join(dir, "stdout"))
	want := id + " test 1 64 /opt/a.jar,/opt/b.jar extra-value\n" + dir + "\n"
	if out != want {
		t.Fatalf("stdout = %q, want %q", out, want)
	}
	errOut := readFile(t, filepath.Join(dir, "stderr"))
	if !strings.Contains(errOut, `"/bin/bash" "-c"`) || !strings.HasSuffix(errOut, "oops\n") {
		t.Fatalf("stderr = %q, want the launch command header then the output", errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "app.pid")); err != nil {
		t.Fatalf("pid file: %v", err)
	}
}

func TestSecretIsNotPassedToApplications(t *testing.T) {
	t.Setenv("ALOHA_SECRET", "do-not-leak")
	fm := newFakeMaster(t)
	tw := startWorker(t, fm, t.TempDir(), nil)
	id := newID()
	fm.launch(id, 1, shellSpec(`echo "secret=[$ALOHA_SECRET]"`))
	fm.waitReport(id, api.AppFinished)
	if out := readFile(t, filepath.Join(appDir(tw, id), "stdout")); out != "secret=[]\n" {
		t.Fatalf("stdout = %q", out)
	}
}

func TestExitCodes(t *testing.T) {
	fm := newFakeMaster(t)
	startWorker(t, fm, t.TempDir(), nil)
	id := newID()
	fm.launch(id, 1, shellSpec("exit 3"))
	r := fm.waitReport(id, api.AppFailed)
	if r.ExitCode == nil || *r.ExitCode != 3 || !strings.Contains(r.Message, "status 3") {
		t.Fatalf("failed report = %+v", r)
	}
	id = newID()
	fm.launch(id, 1, api.AppSpec{Name: "x", EntryPoint: "no-such-kind"})
	r = fm.waitReport(id, api.AppError)
	if !strings.Contains(r.Message, `kind "no-such-kind" is not available`) {
		t.Fatalf("unknown kind report = %+v", r)
	}
}

func TestKillStopsTheWholeProcessTree(t *testing.T) {
	fm := newFakeMaster(t)
	tw := startWorker(t, fm, t.TempDir(), nil)
	id := newID()
	fm.launch(id, 1, shellSpec(`sleep 1000 & sleep 1000 & trap "" TERM; wait`))
	fm.waitReport(id, api.AppRunning)
	pgid := readPid(t, appDir(tw, id))
	if err := fm.order(&api.KillApp{Epoch: fm.epoch, AppID: id, Run: 1, Reason: "test kill"}); err != nil {
		t.Fatal(err)
	}
	r := fm.waitReport(id, api.AppKilled)
	if r.Message != "test kill" {
		t.Fatalf("killed report = %+v", r)
	}
	waitGroupGone(t, pgid)
}

// waitGroupGone waits until no process of the group is left; SIGKILL is
// delivered asynchronously and orphans are reaped by init.
func waitGroupGone(t *testing.T, pgid int) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("process group %d still has members (kill -0: %v)", pgid, err)
		}
		return nil
	})
}

func readPid(t *testing.T, dir string) int {
	t.Helper()
	fields := strings.Fields(readFile(t, filepath.Join(dir, "app.pid")))
	pid, err := strconv.Atoi(fields[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestMaxRuntime(t *testing.T) {
	fm := newFakeMaster(t)
	startWorker(t, fm, t.TempDir(), nil)
	id := newID()
	spec := shellSpec("sleep 1000")
	spec.MaxRuntime = api.Duration(200 * time.Millisecond)
	fm.launch(id, 1, spec)
	r := fm.waitReport(id, api.AppKilled)
	if !strings.Contains(r.Message, "maximum runtime") {
		t.Fatalf("report = %+v", r)
	}
}

// DESIGN §4: workers refuse orders from an older epoch.
func TestOrdersFromAnOlderEpochAreRefused(t *testing.T) {
	fm := newFakeMaster(t)
	startWorker(t, fm, t.TempDir(), nil)
	err := fm.order(&api.LaunchApp{Epoch: fm.epoch - 1, AppID: newID(), Run: 1, Spec: shellSpec("true").WithDefaults()})
	var re *wire.RemoteError
	if !errors.As(err, &re) || re.Code != api.CodeStaleEpoch {
		t.Fatalf("launch from an older epoch = %v, want %s", err, api.CodeStaleEpoch)
	}
	// A newer epoch is accepted and raises the bar.
	fm.epoch += 10
	id := newID()
	fm.launch(id, 1, shellSpec("sleep 1000"))
	fm.waitReport(id, api.AppRunning)
	err = fm.order(&api.KillApp{Epoch: fm.epoch - 5, AppID: id, Run: 1})
	if !errors.As(err, &re) || re.Code != api.CodeStaleEpoch {
		t.Fatalf("kill from an older epoch = %v", err)
	}
	if err := fm.order(&api.KillApp{Epoch: fm.epoch, AppID: id, Run: 1}); err != nil {
		t.Fatal(err)
	}
	fm.waitReport(id, api.AppKilled)
}

func TestMasterChangedIsAnsweredWithRuns(t *testing.T) {
	fm := newFakeMaster(t)
	tw := startWorker(t, fm, t.TempDir(), nil)
	id := newID()
	fm.launch(id, 1, shellSpec("sleep 1000"))
	fm.waitReport(id, api.AppRunning)
	other := newFakeMaster(t)
	other.epoch = fm.epoch + 1
	ctx := t.Context()
	if _, err := other.node.Ask(ctx, fm.workerAddr(), &api.MasterChanged{MasterURL: other.url(), Epoch: other.epoch}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		other.mu.Lock()
		defer other.mu.Unlock()
		if len(other.states) != 1 || len(other.states[0].Apps) != 1 || other.states[0].Apps[0].AppID != id || other.states[0].WorkerID != tw.ID() {
			return errors.New("no scheduler state with the running app")
		}
		return nil
	})
	// The old master is now fenced off.
	if err := fm.order(&api.KillApp{Epoch: fm.epoch, AppID: id, Run: 1}); err == nil {
		t.Fatal("kill from the deposed master was obeyed")
	}
}

// A worker restarted on the same work directory re-attaches the runs a
// previous worker process left, and reports those that ended meanwhile
// with their real exit status.
func TestRestartReattaches(t *testing.T) {
	fm := newFakeMaster(t)
	dir := t.TempDir()
	first := startWorker(t, fm, dir, func(o *Options) { o.KeepAppsOnExit = true })
	running, ended := newID(), newID()
	marker := filepath.Join(t.TempDir(), "go")
	fm.launch(running, 1, shellSpec(`while [ ! -e `+marker+` ]; do sleep 0.05; done; exit 4`))
	fm.launch(ended, 2, shellSpec(`while [ ! -e `+marker+`.early ]; do sleep 0.05; done; exit 5`))
	fm.waitReport(running, api.AppRunning)
	fm.waitReport(ended, api.AppRunning)
	first.stop()
	// While no worker runs, one application ends.
	if err := os.WriteFile(marker+".early", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitGroupGone(t, readPid(t, filepath.Join(dir, ended)))
	second := startWorker(t, fm, dir, nil)
	regs := fm.registrations()
	last := regs[len(regs)-1]
	byID := map[string]api.RunningApp{}
	for _, a := range last.Apps {
		byID[a.AppID] = a
	}
	if a := byID[running]; a.State != api.AppRunning || a.Run != 1 {
		t.Fatalf("re-attached run reported as %+v", a)
	}
	if a := byID[ended]; a.State != api.AppFailed || a.Run != 2 || a.ExitCode == nil || *a.ExitCode != 5 {
		t.Fatalf("run that ended meanwhile reported as %+v", a)
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := fm.waitReport(running, api.AppFailed)
	if r.ExitCode == nil || *r.ExitCode != 4 || r.WorkerID != second.ID() {
		t.Fatalf("re-attached run's end = %+v", r)
	}
}

func TestCleanupRemovesOldEndedDirectories(t *testing.T) {
	fm := newFakeMaster(t)
	dir := t.TempDir()
	tw := startWorker(t, fm, dir, func(o *Options) {
		o.Cleanup, o.CleanupInterval, o.AppDataTTL = true, 50*time.Millisecond, 100*time.Millisecond
	})
	old, live := newID(), newID()
	fm.launch(old, 1, shellSpec("true"))
	fm.launch(live, 1, shellSpec("sleep 1000"))
	fm.waitReport(old, api.AppFinished)
	fm.waitReport(live, api.AppRunning)
	testutil.WaitFor(t, 10*time.Second, func() error {
		if _, err := os.Stat(appDir(tw, old)); !errors.Is(err, os.ErrNotExist) {
			return errors.New("old directory still there")
		}
		return nil
	})
	if _, err := os.Stat(appDir(tw, live)); err != nil {
		t.Fatalf("running application's directory removed: %v", err)
	}
}

func TestStopKillsApplicationsByDefault(t *testing.T) {
	fm := newFakeMaster(t)
	tw := startWorker(t, fm, t.TempDir(), nil)
	id := newID()
	fm.launch(id, 1, shellSpec("sleep 1000"))
	fm.waitReport(id, api.AppRunning)
	pgid := readPid(t, appDir(tw, id))
	tw.stop()
	waitGroupGone(t, pgid)
}

func TestRegistrationRetriesUntilAccepted(t *testing.T) {
	fm := newFakeMaster(t)
	fm.refuse = "not yet"
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		testutil.WaitFor(t, 20*time.Second, func() error {
			fm.mu.Lock()
			defer fm.mu.Unlock()
			if fm.refused < 3 {
				return fmt.Errorf("%d refusals so far", fm.refused)
			}
			fm.refuse = ""
			return nil
		})
	}()
	startWorker(t, fm, t.TempDir(), nil)
	<-accepted
}

// An order of a registration session the worker has replaced is refused:
// a launch in flight when the worker re-registered must not run, since the
// master counted it lost from the registration's report.
func TestOrdersOfAnEarlierSessionAreRefused(t *testing.T) {
	fm := newFakeMaster(t)
	startWorker(t, fm, t.TempDir(), nil)
	fm.mu.Lock()
	old := fm.session
	fm.mu.Unlock()
	// The master asks the worker to register again; it starts a new session.
	if err := fm.order(&api.ReconnectWorker{MasterURL: fm.url()}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		fm.mu.Lock()
		defer fm.mu.Unlock()
		if fm.session == old {
			return errors.New("no new registration yet")
		}
		return nil
	})
	err := fm.order(&api.LaunchApp{Epoch: fm.epoch, Session: old, AppID: newID(), Run: 1, Spec: shellSpec("true").WithDefaults()})
	var re *wire.RemoteError
	if !errors.As(err, &re) || re.Code != api.CodeStaleSession {
		t.Fatalf("launch of an earlier session = %v, want %s", err, api.CodeStaleSession)
	}
	id := newID()
	fm.launch(id, 1, shellSpec("true"))
	fm.waitReport(id, api.AppFinished)
}
