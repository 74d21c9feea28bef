package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alohasched/aloha/internal/testutil"
)

func reattach(t *testing.T, dir string) (Running, *ReattachInfo) {
	t.Helper()
	r, info, err := Reattach(dir, shortGrace)
	if err != nil {
		t.Fatalf("Reattach(%s) = %v", dir, err)
	}
	t.Cleanup(func() {
		r.Shutdown("test cleanup")
		waitDone(t, r)
	})
	return r, info
}

// A worker restarted after a crash finds the app started by its
// predecessor, sees it end, and learns its real exit status.
func TestReattachRunning(t *testing.T) {
	dir := t.TempDir()
	pid := launchElsewhere(t, dir, `touch ready; while [ ! -e release ]; do sleep 0.02; done; exit 7`)
	waitFile(t, dir, "ready")
	r, info := reattach(t, dir)
	st, _ := readStat(pid)
	if st.ppid == os.Getpid() {
		t.Fatalf("app %d is the test's child; the test would not be faithful", pid)
	}
	if !info.Alive || info.Pid != pid || info.StartTime != st.startTime || r.Pid() != pid {
		t.Fatalf("Reattach info = %+v, pid %d; want alive pid %d started at %d", info, r.Pid(), pid, st.startTime)
	}
	if isDone(r) {
		t.Fatal("re-attached app is done while it runs")
	}
	if err := os.WriteFile(filepath.Join(dir, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if e := waitDone(t, r); e.Code != 7 || e.Killed || e.Signal != "" {
		t.Errorf("exit = %+v, want 7", e)
	}
	waitGroupGone(t, pid)
}

func TestReattachShutdown(t *testing.T) {
	tests := []struct {
		script string
		code   int
		reason string
	}{
		{"touch ready; sleep 1000 & sleep 1000 & wait", 143, "stop"},
		// SIGKILL after the grace: nobody is left to record a status.
		{`trap "" TERM; touch ready; sleep 1000 & wait`, -1, "stop"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		pid := launchElsewhere(t, dir, tt.script)
		waitFile(t, dir, "ready")
		r, info := reattach(t, dir)
		if !info.Alive {
			t.Fatalf("%q: Reattach info = %+v, want alive", tt.script, info)
		}
		r.Shutdown("stop")
		e := waitDone(t, r)
		if e.Code != tt.code || !e.Killed || e.Reason != tt.reason {
			t.Errorf("%q: exit = %+v, want code %d, Killed, reason %q", tt.script, e, tt.code, tt.reason)
		}
		waitGroupGone(t, pid)
	}
}

// Leftovers of a re-attached app that ends by itself are killed too.
func TestReattachNoOrphans(t *testing.T) {
	dir := t.TempDir()
	pid := launchElsewhere(t, dir, `sleep 1000 & touch ready; while [ ! -e release ]; do sleep 0.02; done`)
	waitFile(t, dir, "ready")
	r, _ := reattach(t, dir)
	os.WriteFile(filepath.Join(dir, "release"), nil, 0o644)
	if e := waitDone(t, r); e.Code != 0 {
		t.Errorf("exit = %+v, want 0", e)
	}
	waitGroupGone(t, pid)
}

// An app that ended while no worker ran still reports its status.
func TestReattachAfterExit(t *testing.T) {
	dir := t.TempDir()
	pid := launchElsewhere(t, dir, "exit 5")
	testutil.WaitFor(t, testTimeout, func() error {
		if reason, alive := identify(pid, 0); alive {
			return fmt.Errorf("app %d still alive (%s)", pid, reason)
		}
		if rec, err := readPidFile(dir); err != nil || !rec.hasStatus {
			return fmt.Errorf("no exit status yet: %+v, %v", rec, err)
		}
		return nil
	})
	r, info := reattach(t, dir)
	if info.Alive || info.Pid != pid {
		t.Errorf("Reattach info = %+v, want pid %d not alive", info, pid)
	}
	if !isDone(r) {
		t.Fatal("Running of an ended app is not done")
	}
	if e := r.Exit(); e.Code != 5 || e.Killed || e.Reason != "" {
		t.Errorf("exit = %+v, want 5", e)
	}
}

// A pid that now belongs to someone else (here: the test itself, with a
// start time that is not its own) is not the app.
func TestReattachReusedPid(t *testing.T) {
	dir := t.TempDir()
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := writePidFile(dir, os.Getpid(), st.startTime+1); err != nil {
		t.Fatal(err)
	}
	r, info := reattach(t, dir)
	if info.Alive || !isDone(r) {
		t.Fatalf("Reattach of a reused pid: info %+v, done %v; want not alive, done", info, isDone(r))
	}
	if e := r.Exit(); e.Code != -1 || !strings.Contains(e.Reason, "another process") || !strings.Contains(e.Reason, unknownStatus) {
		t.Errorf("exit = %+v, want -1 with a reason", e)
	}
	r.Shutdown("must not signal the test") // would kill the test's group if it did

	// The same, but the app had recorded a status before the pid went.
	f, _ := os.OpenFile(filepath.Join(dir, PidFile), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("3\n")
	f.Close()
	r, _ = reattach(t, dir)
	if e := r.Exit(); e.Code != 3 {
		t.Errorf("exit = %+v, want the recorded 3", e)
	}
}

func TestReattachBadPidFile(t *testing.T) {
	dir := t.TempDir()
	_, _, err := Reattach(dir, shortGrace)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), PidFile) {
		t.Errorf("Reattach without a pid file = %v; want ErrNotExist naming %s", err, PidFile)
	}
	for _, torn := range []string{"", "\n", "123", "123\n", "123 45", "123 4x\n", "-1 5\n", "1 2 3\n",
		"12 34\n\n", "12 34\n12 34\n", "12 34\n1\n2\n", "12 34\n300\n", "12 34\nx\n"} {
		os.WriteFile(filepath.Join(dir, PidFile), []byte(torn), 0o644)
		if r, _, err := Reattach(dir, shortGrace); err == nil || !strings.Contains(err.Error(), PidFile) {
			t.Errorf("Reattach with pid file %q = %v, %v; want an error naming %s", torn, r, err, PidFile)
		}
	}
}

func TestReadPidFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		content string
		want    pidRecord
	}{
		{"12 34\n", pidRecord{pid: 12, startTime: 34}},
		{"12 34\n0\n", pidRecord{pid: 12, startTime: 34, status: 0, hasStatus: true}},
		{"12 34\n143\n", pidRecord{pid: 12, startTime: 34, status: 143, hasStatus: true}},
		// A fast run's wrapper may append before the runner writes.
		{"7\n12 34\n", pidRecord{pid: 12, startTime: 34, status: 7, hasStatus: true}},
		// A status cut short is no status.
		{"12 34\n14", pidRecord{pid: 12, startTime: 34, status: 14}},
	}
	for _, tt := range tests {
		os.WriteFile(filepath.Join(dir, PidFile), []byte(tt.content), 0o644)
		got, err := readPidFile(dir)
		if err != nil || got != tt.want {
			t.Errorf("readPidFile(%q) = %+v, %v; want %+v", tt.content, got, err, tt.want)
		}
	}
}

func TestParseStat(t *testing.T) {
	st, err := parseStat([]byte("42 (a (b) c) S 1 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 1 2 3\n"))
	if err != nil || st.state != 'S' || st.ppid != 1 || st.pgrp != 77 || st.startTime != 123456 {
		t.Errorf("parseStat = %+v, %v; want S, pgrp 77, start 123456", st, err)
	}
	for _, bad := range []string{"", "42 (x", "42 (x) S 1 2"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) succeeded", bad)
		}
	}
}

// Kernels without pidfd_open: a re-attached app is watched through /proc.
func TestReattachPollFallback(t *testing.T) {
	dir := t.TempDir()
	pid := launchElsewhere(t, dir, `touch ready; while [ ! -e release ]; do sleep 0.02; done; exit 6`)
	waitFile(t, dir, "ready")
	rec, err := readPidFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := newGroup(pid, shortGrace)
	go p.watchForeign(dir, rec.startTime, nil)
	t.Cleanup(func() { p.Shutdown("cleanup"); waitDone(t, p) })
	os.WriteFile(filepath.Join(dir, "release"), nil, 0o644)
	if e := waitDone(t, p); e.Code != 6 {
		t.Errorf("exit = %+v, want 6", e)
	}
}
