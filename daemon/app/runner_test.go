package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestHeader(t *testing.T) {
	got := string(header([]string{"/bin/bash", "-c", "echo \"hi\"\nls"}))
	want := `Launch command: "/bin/bash" "-c" "echo \"hi\"\nls"` + "\n" + strings.Repeat("=", 40) + "\n\n"
	if got != want {
		t.Errorf("header = %q, want %q", got, want)
	}
}

func TestShellLaunch(t *testing.T) {
	script := `echo out; echo err >&2; pwd; echo "$ALOHA_TEST" $# "$1"; echo pgid=$(ps -o pgid= -p $$ | tr -d ' '); while [ ! -e release ]; do sleep 0.02; done`
	l := newLaunch(t, KindShell, script)
	r := start(t, l)

	// While it runs: the pid file names the leader and its start time.
	pidFile := waitFile(t, l.Dir, PidFile)
	st, err := readStat(r.Pid())
	if err != nil {
		t.Fatalf("leader %d: %v", r.Pid(), err)
	}
	if want := fmt.Sprintf("%d %d\n", r.Pid(), st.startTime); pidFile != want {
		t.Errorf("%s = %q, want %q", PidFile, pidFile, want)
	}
	if st.pgrp != r.Pid() {
		t.Errorf("leader %d is in group %d; want its own group", r.Pid(), st.pgrp)
	}
	if err := os.WriteFile(filepath.Join(l.Dir, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e := waitDone(t, r)
	if e.Code != 0 || e.Signal != "" || e.Killed || e.Err != nil || !e.Success() {
		t.Errorf("exit = %+v, want a clean 0", e)
	}
	want := fmt.Sprintf("out\n%s\nyes 0 \npgid=%d\n", l.Dir, r.Pid())
	if got := readFile(t, l.Dir, StdoutFile); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	wantErr := string(header([]string{"/bin/bash", "-c", script})) + "err\n"
	if got := readFile(t, l.Dir, StderrFile); got != wantErr {
		t.Errorf("stderr = %q, want %q", got, wantErr)
	}
	if got, want := readFile(t, l.Dir, PidFile), pidFile+"0\n"; got != want {
		t.Errorf("%s after the end = %q, want %q", PidFile, got, want)
	}
	for name, mode := range map[string]os.FileMode{StdoutFile: 0o644, StderrFile: 0o644} {
		fi, err := os.Stat(filepath.Join(l.Dir, name))
		if err != nil || fi.Mode().Perm() != mode&^umask() {
			t.Errorf("%s: %v, mode %v; want %v", name, err, fi.Mode().Perm(), mode&^umask())
		}
	}
}

func umask() os.FileMode {
	m := unix.Umask(0)
	unix.Umask(m)
	return os.FileMode(m)
}

// The environment is exactly Launch.Env, stdin is empty.
func TestExecEnvAndStdin(t *testing.T) {
	l := newLaunch(t, KindExec, "env")
	r := start(t, l)
	if e := waitDone(t, r); e.Code != 0 {
		t.Fatalf("exit = %+v", e)
	}
	got := strings.Split(strings.TrimSpace(readFile(t, l.Dir, StdoutFile)), "\n")
	// dash exports PWD it computed itself; everything else is ours.
	got = slices.DeleteFunc(got, func(s string) bool { return strings.HasPrefix(s, "PWD=") })
	want := slices.Clone(l.Env)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("environment = %q, want %q", got, want)
	}

	l = newLaunch(t, KindExec, "cat")
	r = start(t, l)
	if e := waitDone(t, r); e.Code != 0 || readFile(t, l.Dir, StdoutFile) != "" {
		t.Errorf("cat of stdin: exit %+v, stdout %q; want 0 and nothing", e, readFile(t, l.Dir, StdoutFile))
	}
}

func TestExecLaunch(t *testing.T) {
	l := newLaunch(t, KindExec, `printf '%s\n' 'a b' "c\"d" $HOME '*' '$(touch pwned)' ; rm -rf .`)
	r := start(t, l)
	if e := waitDone(t, r); e.Code != 0 {
		t.Fatalf("exit = %+v, stderr %q", e, readFile(t, l.Dir, StderrFile))
	}
	if got, want := readFile(t, l.Dir, StdoutFile), "a b\nc\"d\n$HOME\n*\n$(touch pwned)\n;\nrm\n-rf\n.\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if exists(l.Dir, "pwned") {
		t.Error("exec ran a shell")
	}
	wantHeader := string(header([]string{"/usr/bin/printf", `%s\n`, "a b", `c"d`, "$HOME", "*", "$(touch pwned)", ";", "rm", "-rf", "."}))
	if got := readFile(t, l.Dir, StderrFile); got != wantHeader {
		t.Errorf("stderr = %q, want %q", got, wantHeader)
	}

	// Argv is used verbatim and wins over Args.
	l = newLaunch(t, KindExec, "false")
	l.Spec.Argv = []string{"./script", "x y", "$z"}
	if err := os.WriteFile(filepath.Join(l.Dir, "script"), []byte("#!/bin/sh\nprintf '[%s]' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = start(t, l)
	if e := waitDone(t, r); e.Code != 0 {
		t.Fatalf("exit = %+v, stderr %q", e, readFile(t, l.Dir, StderrFile))
	}
	if got, want := readFile(t, l.Dir, StdoutFile), "[x y][$z]"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

// A relaunch in the same directory appends; the exit status is this run's.
func TestRelaunchAppends(t *testing.T) {
	l := newLaunch(t, KindShell, `echo "run $RUN"; echo "err $RUN" >&2; exit $RUN`)
	env := l.Env
	for i := 1; i <= 2; i++ {
		l.Env = append(slices.Clone(env), "RUN="+strconv.Itoa(i))
		if e := waitDone(t, start(t, l)); e.Code != i {
			t.Fatalf("run %d: exit %+v", i, e)
		}
	}
	if got, want := readFile(t, l.Dir, StdoutFile), "run 1\nrun 2\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	h := string(header([]string{"/bin/bash", "-c", l.Spec.Args}))
	if got, want := readFile(t, l.Dir, StderrFile), h+"err 1\n"+h+"err 2\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	// A run that records nothing must not inherit the previous status.
	if _, ok := recordedStatus(t, l.Dir); !ok {
		t.Fatal("no status recorded by run 2")
	}
	l.Spec.Args = "kill -KILL $$" // $$ is the wrapper
	r := start(t, l)
	if e := waitDone(t, r); e.Signal != "killed" {
		t.Fatalf("exit = %+v, want killed", e)
	}
	if rec, err := readPidFile(l.Dir); err != nil || rec.hasStatus || rec.pid != r.Pid() {
		t.Errorf("readPidFile after an unrecorded run = %+v, %v; want pid %d and no status", rec, err, r.Pid())
	}
}

func TestStartErrors(t *testing.T) {
	reg := NewRegistry()
	shell, _ := reg.Lookup(KindShell)
	exec, _ := reg.Lookup(KindExec)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		kind Kind
		ctx  context.Context
		args string
		dir  string
		want string
	}{
		{"exec empty", exec, context.Background(), "  ", "", "empty"},
		{"exec unbalanced", exec, context.Background(), `echo 'x`, "", "unterminated single quote"},
		{"exec missing", exec, context.Background(), "no-such-cmd-aloha x", "", `"no-such-cmd-aloha" not found`},
		{"exec not executable", exec, context.Background(), "./data", "", "not executable"},
		{"exec directory", exec, context.Background(), "/tmp", "", "directory"},
		{"shell canceled", shell, canceled, "true", "", "canceled"},
		{"exec canceled", exec, canceled, "true", "", "canceled"},
		{"no dir", shell, context.Background(), "true", "-", "directory"},
	}
	for _, tt := range tests {
		l := newLaunch(t, tt.kind.Name(), tt.args)
		os.WriteFile(filepath.Join(l.Dir, "data"), nil, 0o644)
		if tt.dir == "-" {
			l.Dir = ""
		}
		r, err := tt.kind.Start(tt.ctx, l)
		if err == nil {
			r.Shutdown("unexpected")
			<-r.Done()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Start = %v; want an error containing %q", tt.name, err, tt.want)
		}
	}
}

// The exit status is the application's, even under the wrapper, and the
// wrapper's file agrees with what the worker saw.
func TestExitCodes(t *testing.T) {
	tests := []struct {
		script string
		code   int
		signal string
	}{
		{"true", 0, ""},
		{"exit 3", 3, ""},
		{`exec sh -c "exit 4"`, 4, ""},
		{`trap 'exit 9' TERM; kill -TERM $BASHPID; sleep 5`, 9, ""}, // the script's own trap works
		{`sh -c 'kill -TERM $$'`, 143, "terminated"},
		{"kill -SEGV $BASHPID", 139, "segmentation fault"},
	}
	for _, tt := range tests {
		l := newLaunch(t, KindShell, tt.script)
		e := waitDone(t, start(t, l))
		if e.Code != tt.code || e.Signal != tt.signal || e.Killed || e.Err != nil {
			t.Errorf("%q: exit = %+v, want code %d signal %q", tt.script, e, tt.code, tt.signal)
		}
		if got, ok := recordedStatus(t, l.Dir); !ok || got != tt.code {
			t.Errorf("%q: recorded status %d, %v; want %d", tt.script, got, ok, tt.code)
		}
	}
}

func TestExitCodeExecKind(t *testing.T) {
	l := newLaunch(t, KindExec, `sh -c "exit 42"`)
	if e := waitDone(t, start(t, l)); e.Code != 42 {
		t.Errorf("exit = %+v, want 42", e)
	}
}

// A SIGKILL of the whole group from outside leaves no status file; the
// worker still knows from wait(2).
func TestExitGroupSIGKILL(t *testing.T) {
	l := newLaunch(t, KindShell, "touch ready; sleep 1000")
	r := start(t, l)
	waitFile(t, l.Dir, "ready")
	if err := unix.Kill(-r.Pid(), unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e := waitDone(t, r)
	if e.Code != 137 || e.Signal != "killed" || e.Killed {
		t.Errorf("exit = %+v, want 137, killed, not by Shutdown", e)
	}
	if code, ok := recordedStatus(t, l.Dir); ok {
		t.Errorf("status %d recorded by a SIGKILLed wrapper", code)
	}
	waitGroupGone(t, r.Pid())
}
