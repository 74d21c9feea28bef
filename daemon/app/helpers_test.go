package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/internal/testutil"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// testTimeout bounds every wait of these tests; conditions are polled,
// never slept on.
const testTimeout = 15 * time.Second

// shortGrace is the KillTimeout of tests that exercise the SIGKILL
// escalation: short so they run fast, long enough for a shell to react.
const shortGrace = 300 * time.Millisecond

// The test binary doubles as a separate "worker" process that launches an
// app and exits without waiting, so that Reattach can be tested against a
// process whose parent is not the test.
const (
	helperDirEnv    = "ALOHA_APP_TEST_HELPER_DIR"
	helperScriptEnv = "ALOHA_APP_TEST_HELPER_SCRIPT"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperDirEnv); dir != "" {
		os.Exit(helperMain(dir, os.Getenv(helperScriptEnv)))
	}
	goleak.VerifyTestMain(m)
}

// helperMain launches the script in dir and exits at once, like a worker
// killed right after a launch. It prints the app's pid.
func helperMain(dir, script string) int {
	l := &Launch{AppID: "app-helper", Spec: api.AppSpec{Name: "helper", EntryPoint: KindShell, Args: script}, Dir: dir, Env: testEnv(dir)}
	r, err := shellKind{name: KindShell}.Start(context.Background(), l)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(r.Pid())
	return 0
}

// launchElsewhere starts script in dir from a separate helper process,
// waits for that process to exit, and returns the app's pid. The app is
// then an orphan, as after a worker crash; Cleanup kills its group.
func launchElsewhere(t *testing.T, dir, script string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir, helperScriptEnv+"="+script)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v (stderr: %s)", err, errStderr(err))
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("helper printed %q, want a pid", out)
	}
	st, err := readStat(pid)
	if err != nil {
		// It may legitimately have ended already; nothing to clean up then.
		return pid
	}
	t.Cleanup(func() {
		// Kill the group only if its leader is still the app (not a
		// process that reused the pid), then wait for it to drain.
		if now, err := readStat(pid); err == nil && now.startTime == st.startTime {
			unix.Kill(-pid, unix.SIGKILL)
		}
		waitGroupGone(t, pid)
	})
	return pid
}

func errStderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

func testEnv(dir string) []string {
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "ALOHA_TEST=yes"}
}

func newLaunch(t *testing.T, kind string, args string) *Launch {
	t.Helper()
	dir := t.TempDir()
	return &Launch{
		AppID:       "app-20250101000000-0001",
		Spec:        api.AppSpec{Name: t.Name(), EntryPoint: kind, Args: args, Cores: 1, Memory: 64},
		Dir:         dir,
		Env:         testEnv(dir),
		KillTimeout: shortGrace,
	}
}

// start starts l with the named kind of a fresh registry and registers
// a cleanup that stops the app and checks that its whole group is gone.
func start(t *testing.T, l *Launch) Running {
	t.Helper()
	k, ok := NewRegistry().Lookup(l.Spec.EntryPoint)
	if !ok {
		t.Fatalf("no kind %q", l.Spec.EntryPoint)
	}
	return startKind(t, k, l)
}

func startKind(t *testing.T, k Kind, l *Launch) Running {
	t.Helper()
	r, err := k.Start(context.Background(), l)
	if err != nil {
		t.Fatalf("%s.Start(%q) = %v", k.Name(), l.Spec.Args, err)
	}
	t.Cleanup(func() {
		r.Shutdown("test cleanup")
		waitDone(t, r)
		waitGroupGone(t, r.Pid())
	})
	return r
}

func waitDone(t *testing.T, r Running) Exit {
	t.Helper()
	select {
	case <-r.Done():
		return r.Exit()
	case <-time.After(testTimeout):
		t.Fatalf("app %d not done within %s", r.Pid(), testTimeout)
		return Exit{}
	}
}

func isDone(r Running) bool {
	select {
	case <-r.Done():
		return true
	default:
		return false
	}
}

// groupMembers lists the processes of group pgid that are not zombies.
func groupMembers(pgid int) []string {
	var live []string
	names, _ := filepath.Glob("/proc/[0-9]*")
	for _, n := range names {
		pid, _ := strconv.Atoi(filepath.Base(n))
		if st, err := readStat(pid); err == nil && st.pgrp == pgid && st.state != 'Z' {
			cmd, _ := os.ReadFile(n + "/cmdline")
			live = append(live, fmt.Sprintf("%d(%c) %s", pid, st.state, strings.ReplaceAll(string(cmd), "\x00", " ")))
		}
	}
	return live
}

// waitGroupGone waits until no process of group pgid is alive. The group
// is gone for kill(2) (ESRCH) once its zombies are reaped; init on the
// test machine reaps orphans only every second or two, so a group whose
// members are all zombies counts as gone: none of them can run again.
func waitGroupGone(t *testing.T, pgid int) {
	t.Helper()
	testutil.WaitFor(t, testTimeout, func() error {
		err := unix.Kill(-pgid, 0)
		if errors.Is(err, unix.ESRCH) {
			return nil
		}
		if live := groupMembers(pgid); len(live) > 0 {
			return fmt.Errorf("group %d still has live processes: %v", pgid, live)
		}
		return nil
	})
}

// waitFile waits until dir/name exists and returns its contents.
func waitFile(t *testing.T, dir, name string) string {
	t.Helper()
	var b []byte
	testutil.WaitFor(t, testTimeout, func() error {
		var err error
		b, err = os.ReadFile(filepath.Join(dir, name))
		return err
	})
	return string(b)
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// recordedStatus is the exit status the wrapper appended to dir/PidFile.
func recordedStatus(t *testing.T, dir string) (int, bool) {
	t.Helper()
	rec, err := readPidFile(dir)
	if err != nil {
		t.Fatalf("readPidFile: %v", err)
	}
	return rec.status, rec.hasStatus
}

func exists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}
