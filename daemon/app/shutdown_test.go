package app

import (
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/internal/testutil"
)

// waitMembers waits until group pgid has at least n live processes, so
// that a test signals a tree that has actually been built.
func waitMembers(t *testing.T, pgid, n int) {
	t.Helper()
	testutil.WaitFor(t, testTimeout, func() error {
		if got := groupMembers(pgid); len(got) < n {
			return fmt.Errorf("group %d has %d live processes, want %d: %v", pgid, len(got), n, got)
		}
		return nil
	})
}

func TestShutdownProcessTree(t *testing.T) {
	l := newLaunch(t, KindShell, "sleep 1000 & sleep 1000 & wait")
	l.KillTimeout = testTimeout // SIGTERM alone must do it
	r := start(t, l)
	waitMembers(t, r.Pid(), 4) // wrapper, subshell, two sleeps
	r.Shutdown("user asked")
	e := waitDone(t, r)
	if e.Code != 143 || e.Signal != "terminated" || !e.Killed || e.Reason != "user asked" {
		t.Errorf("exit = %+v, want 143 terminated, Killed, reason recorded", e)
	}
	if got, ok := recordedStatus(t, l.Dir); got != 143 || !ok {
		t.Errorf("recorded status %d, %v; want 143", got, ok)
	}
	waitGroupGone(t, r.Pid())
}

func TestShutdownIgnoringTerm(t *testing.T) {
	for _, script := range []string{
		`trap "" TERM; touch ready; sleep 1000`,
		`trap "" TERM; touch ready; sleep 1000 & sleep 1000 & wait`,
		// The leader's child dies at once, a grandchild ignores TERM.
		`sh -c 'trap "" TERM; touch ready; exec sleep 1000' & wait`,
	} {
		l := newLaunch(t, KindShell, script)
		l.KillTimeout = shortGrace
		r := start(t, l)
		waitFile(t, l.Dir, "ready")
		r.Shutdown("stop")
		e := waitDone(t, r)
		if !e.Killed || e.Reason != "stop" {
			t.Errorf("%q: exit = %+v, want Killed with the reason", script, e)
		}
		waitGroupGone(t, r.Pid())
	}
}

func TestShutdownEscalatesToSIGKILL(t *testing.T) {
	l := newLaunch(t, KindShell, `trap "" TERM; touch ready; sleep 1000`)
	l.KillTimeout = shortGrace
	r := start(t, l)
	waitFile(t, l.Dir, "ready")
	began := time.Now()
	r.Shutdown("stop")
	e := waitDone(t, r)
	if e.Code != 137 || e.Signal != "killed" || !e.Killed {
		t.Errorf("exit = %+v, want 137 killed by Shutdown", e)
	}
	// Not a timing assertion on speed, only that TERM came first and
	// the grace was honoured.
	if d := time.Since(began); d < shortGrace {
		t.Errorf("SIGKILL after %v, before the %v grace", d, shortGrace)
	}
	if code, ok := recordedStatus(t, l.Dir); ok {
		t.Errorf("status %d recorded by a SIGKILLed wrapper", code)
	}
}

// When the leader dies at SIGTERM but a program it started is still
// shutting down, that program gets the rest of the grace.
func TestShutdownGraceForGroup(t *testing.T) {
	l := newLaunch(t, KindShell, `bash -c 'trap "sleep 0.3; echo flushed > flushed; exit 0" TERM; touch ready; sleep 1000 & wait'; echo unreachable`)
	l.KillTimeout = testTimeout
	r := start(t, l)
	waitFile(t, l.Dir, "ready")
	r.Shutdown("stop")
	e := waitDone(t, r)
	if e.Code != 143 || !e.Killed {
		t.Errorf("exit = %+v, want the script's 143, Killed", e)
	}
	if !exists(l.Dir, "flushed") {
		t.Error("the child was killed before its TERM handler finished")
	}
	waitGroupGone(t, r.Pid())
}

func TestShutdownTwiceAndAfterExit(t *testing.T) {
	l := newLaunch(t, KindShell, "sleep 1000")
	r := start(t, l)
	r.Shutdown("first")
	r.Shutdown("second")
	if e := waitDone(t, r); e.Reason != "first" || !e.Killed {
		t.Errorf("exit = %+v, want the first reason", e)
	}
	r.Shutdown("after") // harmless
	if e := r.Exit(); e.Reason != "first" {
		t.Errorf("exit after a late Shutdown = %+v", e)
	}

	l = newLaunch(t, KindShell, "exit 0")
	r = start(t, l)
	waitDone(t, r)
	r.Shutdown("late")
	if e := r.Exit(); e.Killed || e.Code != 0 {
		t.Errorf("Shutdown after the end changed the exit: %+v", e)
	}
}

// Background processes left by an app that ended by itself are killed.
func TestNoOrphansAfterExit(t *testing.T) {
	l := newLaunch(t, KindShell, "sleep 1000 & echo $! > bg; sh -c 'sleep 1000' & exit 5")
	r := start(t, l)
	if e := waitDone(t, r); e.Code != 5 || e.Killed {
		t.Errorf("exit = %+v, want 5", e)
	}
	waitGroupGone(t, r.Pid())
	// exec kind: its command's children too.
	l = newLaunch(t, KindExec, `sh -c "sleep 1000 & exit 0"`)
	r = start(t, l)
	if e := waitDone(t, r); e.Code != 0 {
		t.Errorf("exit = %+v, want 0", e)
	}
	waitGroupGone(t, r.Pid())
}

// Kernels without pidfd_open: the runner waits with waitid(WNOWAIT), and
// still kills the group before it reaps the leader.
func TestStartedWithoutPidfd(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("/bin/bash", "-c", bashWrapper, wrapperArg0, "sleep 1000 & exit 3")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := newGroup(cmd.Process.Pid, shortGrace)
	go p.watchChild(cmd, nil)
	t.Cleanup(func() { p.Shutdown("cleanup"); waitDone(t, p) })
	if e := waitDone(t, p); e.Code != 3 {
		t.Errorf("exit = %+v, want 3", e)
	}
	waitGroupGone(t, p.pid)
}
