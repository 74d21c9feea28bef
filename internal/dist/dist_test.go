//go:build unix

package dist

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/internal/testutil"
)

// repoRoot is the repository, seen from this package's directory (where
// go test runs the tests).
const repoRoot = "../.."

// fakeAlohad stands in for bin/alohad. It prints its arguments and some of
// its environment, then runs until SIGTERM. It is a bash script that does not
// exec anything, so its command line stays "bash <home>/bin/alohad ...", which
// the launch script's "is this alohad?" check accepts. It waits on one long
// sleep (named after it, so that the tests' cleanup finds that too) rather
// than looping on short ones, not to churn through pids. FAKE_ALOHAD_MODE=fail
// makes it fail at once, as alohad does on a taken port; stubborn makes it
// ignore SIGTERM.
const fakeAlohad = `#!/usr/bin/env bash
echo "fake alohad $*"
echo "env ALOHA_HOME=$ALOHA_HOME ALOHA_CONF_DIR=$ALOHA_CONF_DIR FROM_ENV_SH=${ALOHA_TEST_FROM_ENV_SH:-} TAG=${FAKE_ALOHAD_TAG:-}"
if [ "${FAKE_ALOHAD_MODE:-run}" = fail ]; then
	echo "alohad: listen tcp 127.0.0.1:1234: bind: address already in use" >&2
	exit 3
fi
(exec -a "$0 (sleep)" sleep 1000) &
sleeper=$!
if [ "${FAKE_ALOHAD_MODE:-run}" = stubborn ]; then
	trap 'echo "fake alohad: ignoring SIGTERM"' TERM
else
	trap 'echo "fake alohad: SIGTERM"; kill "$sleeper"; exit 0' TERM
fi
while kill -0 "$sleeper" 2>/dev/null; do wait "$sleeper"; done
`

// The seed README's commands, word for word after "aloha-daemon.sh".
var (
	seedMaster = []string{"start", "master", "-h", "127.0.0.1", "-p", "1234"}
	seedWorker = []string{"start", "worker", "-h", "127.0.0.1", "aloha://127.0.0.1:1234"}
)

// home is a throw-away ALOHA_HOME holding the real launch script and the
// fake alohad, with its pid and log directories inside it.
type home struct {
	t      *testing.T
	dir    string // ALOHA_HOME as the script resolves it
	pidDir string
	logDir string
	env    []string
}

const ident = "alohatest" // $USER in the scripts' environment

func newHome(t *testing.T) *home {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not on PATH")
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := &home{
		t:      t,
		dir:    dir,
		pidDir: filepath.Join(dir, "run"),
		logDir: filepath.Join(dir, "var", "log"),
	}
	script, err := os.ReadFile(filepath.Join(repoRoot, "sbin", "aloha-daemon.sh"))
	if err != nil {
		t.Fatal(err)
	}
	h.write("sbin/aloha-daemon.sh", string(script), 0o755)
	h.write("bin/alohad", fakeAlohad, 0o755)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "ALOHA_") || strings.HasPrefix(name, "FAKE_ALOHAD_") || name == "USER" {
			continue
		}
		h.env = append(h.env, kv)
	}
	h.env = append(h.env, "USER="+ident, "ALOHA_PID_DIR="+h.pidDir, "ALOHA_LOG_DIR="+h.logDir)
	t.Cleanup(h.killAll)
	return h
}

func (h *home) write(rel, content string, mode os.FileMode) {
	h.t.Helper()
	p := filepath.Join(h.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		h.t.Fatal(err)
	}
}

// run runs "bash sbin/aloha-daemon.sh args..." from ALOHA_HOME, as the README
// does, with env (NAME=value) added to the home's environment; it returns
// the combined output and the exit code.
func (h *home) run(env []string, args ...string) (string, int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{"sbin/aloha-daemon.sh"}, args...)...)
	cmd.Dir = h.dir
	cmd.Env = append(append([]string(nil), h.env...), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ctx.Err() != nil {
			h.t.Fatalf("aloha-daemon.sh %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		code = ee.ExitCode()
	}
	h.t.Logf("$ aloha-daemon.sh %s  (exit %d)\n%s", strings.Join(args, " "), code, out)
	return string(out), code
}

// mustRun runs the script and fails the test unless it exits with want.
func (h *home) mustRun(want int, env []string, args ...string) string {
	h.t.Helper()
	out, code := h.run(env, args...)
	if code != want {
		h.t.Fatalf("aloha-daemon.sh %s exited %d, want %d:\n%s", strings.Join(args, " "), code, want, out)
	}
	return out
}

func (h *home) pidFile(role, instance string) string {
	return filepath.Join(h.pidDir, fmt.Sprintf("aloha-%s-%s-%s.pid", ident, role, instance))
}

func (h *home) logFile(role, instance string) string {
	host, err := os.Hostname()
	if err != nil {
		h.t.Fatal(err)
	}
	return filepath.Join(h.logDir, fmt.Sprintf("aloha-%s-%s-%s-%s.out", ident, role, instance, host))
}

// pid reads a pid file, failing the test if it is missing or malformed.
func (h *home) pid(file string) int {
	h.t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		h.t.Fatalf("pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		h.t.Fatalf("pid file %s holds %q", file, data)
	}
	h.t.Logf("%s: pid %d", filepath.Base(file), pid)
	return pid
}

// waitLog waits until the file contains every one of wants.
func (h *home) waitLog(file string, wants ...string) {
	h.t.Helper()
	testutil.WaitFor(h.t, 10*time.Second, func() error {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		for _, w := range wants {
			if !strings.Contains(string(data), w) {
				return fmt.Errorf("%s lacks %q; it holds:\n%s", file, w, data)
			}
		}
		return nil
	})
}

// killAll kills whatever fake daemons of this home are left, found through
// the pid files and, where there is a /proc, through the command lines.
func (h *home) killAll() {
	pids := map[int]bool{}
	files, _ := filepath.Glob(filepath.Join(h.pidDir, "*.pid"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 && h.ours(pid) {
			pids[pid] = true
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		if pid, err := strconv.Atoi(filepath.Base(p)); err == nil && h.ours(pid) {
			pids[pid] = true
		}
	}
	for pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pid := range pids {
		for !gone(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// ours reports whether pid runs this home's fake alohad.
func (h *home) ours(pid int) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		// Without /proc, trust the pid file.
		return !gone(pid) && !procExists()
	}
	return strings.Contains(string(cmdline), filepath.Join(h.dir, "bin", "alohad"))
}

func procExists() bool {
	_, err := os.Stat("/proc/self/cmdline")
	return err == nil
}

// gone reports whether the process has exited. A process that exited but was
// not reaped yet still answers kill -0; it counts as gone too, because the
// daemons are orphans and some inits (this project's machines' among them)
// do not reap orphans promptly.
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist) && procExists()
	}
	// "pid (comm) S ...": the state follows the last parenthesis.
	s := string(stat)
	rest := strings.TrimSpace(s[strings.LastIndexByte(s, ')')+1:])
	return strings.HasPrefix(rest, "Z") || strings.HasPrefix(rest, "X")
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if !gone(pid) {
			return fmt.Errorf("process %d is still running", pid)
		}
		return nil
	})
}

func writePid(t *testing.T, file string, pid int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

func noFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: want no such file, got %v", path, err)
	}
}

// The seed README's two commands start a master and a worker with exactly
// those arguments, each with its pid file and its log.
func TestStartMasterAndWorkerAsInREADME(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	for _, args := range [][]string{seedMaster, seedWorker} {
		role := args[1]
		out := h.mustRun(0, nil, args...)
		log := h.logFile(role, "1")
		mustContain(t, "start output", out, "starting "+role+", logging to "+log)
		pid := h.pid(h.pidFile(role, "1"))
		if gone(pid) {
			t.Fatalf("%s (pid %d) is not running after start", role, pid)
		}
		h.waitLog(log,
			"fake alohad "+strings.Join(args[1:], " ")+"\n",
			"ALOHA_HOME="+h.dir+" ALOHA_CONF_DIR="+filepath.Join(h.dir, "conf")+" ")
	}
	for _, role := range []string{"worker", "master"} {
		pid := h.pid(h.pidFile(role, "1"))
		h.mustRun(0, nil, "stop", role)
		waitGone(t, pid)
	}
}

// start, start again, status, stop, status, stop: the life of one daemon.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	pidFile, log := h.pidFile("master", "1"), h.logFile("master", "1")

	h.mustRun(0, nil, seedMaster...)
	pid := h.pid(pidFile)

	out := h.mustRun(1, nil, seedMaster...)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 {
		t.Errorf("a refused start should say so in one line, got:\n%s", out)
	}
	mustContain(t, "second start", out, "master running as process "+strconv.Itoa(pid))
	if got := h.pid(pidFile); got != pid {
		t.Errorf("the refused start rewrote the pid file: %d, want %d", got, pid)
	}
	if gone(pid) {
		t.Fatal("the refused start stopped the running master")
	}

	out = h.mustRun(0, nil, "status", "master")
	mustContain(t, "status", out, fmt.Sprintf("master is running (pid %d)", pid))

	out = h.mustRun(0, nil, "stop", "master")
	mustContain(t, "stop", out, "stopping master")
	waitGone(t, pid)
	noFile(t, pidFile)
	h.waitLog(log, "fake alohad: SIGTERM")

	out = h.mustRun(1, nil, "status", "master")
	mustContain(t, "status after stop", out, "master is not running")

	out = h.mustRun(0, nil, "stop", "master")
	mustContain(t, "second stop", out, "no master to stop")
}

// A pid file whose process is gone, or is not alohad, is stale: status says
// so and removes it, stop leaves the process alone, start starts anew.
func TestStalePidFile(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	pidFile := h.pidFile("master", "1")

	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	deadPid := exited.Process.Pid
	writePid(t, pidFile, deadPid)
	out := h.mustRun(1, nil, "status", "master")
	mustContain(t, "status", out, "master is not running, but a stale pid file", strconv.Itoa(deadPid))
	noFile(t, pidFile)

	// A live process that is not alohad: this test binary.
	self := os.Getpid()
	writePid(t, pidFile, self)
	out = h.mustRun(1, nil, "status", "master")
	mustContain(t, "status", out, "stale pid file")
	writePid(t, pidFile, self)
	out = h.mustRun(0, nil, "stop", "master")
	mustContain(t, "stop", out, "no master to stop")
	noFile(t, pidFile)

	writePid(t, pidFile, self)
	h.mustRun(0, nil, seedMaster...)
	pid := h.pid(pidFile)
	if pid == self {
		t.Fatal("start kept the stale pid")
	}
	h.mustRun(0, nil, "stop", "master")
	waitGone(t, pid)
}

// A daemon that dies at once (bad flag, port taken) fails the start, which
// shows the end of its log.
func TestStartFailureShowsLogTail(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	out := h.mustRun(1, []string{"FAKE_ALOHAD_MODE=fail"}, seedMaster...)
	mustContain(t, "failed start", out,
		"failed to launch",
		"status 3",
		"fake alohad master -h 127.0.0.1 -p 1234",
		"bind: address already in use",
		h.logFile("master", "1"))
	if strings.Contains(out, "starting master") {
		t.Errorf("a failed start claims to be starting:\n%s", out)
	}
	noFile(t, h.pidFile("master", "1"))
	out = h.mustRun(1, nil, "status", "master")
	mustContain(t, "status", out, "master is not running")

	if err := os.Remove(filepath.Join(h.dir, "bin", "alohad")); err != nil {
		t.Fatal(err)
	}
	out = h.mustRun(1, nil, seedMaster...)
	mustContain(t, "start without bin/alohad", out, "failed to launch", filepath.Join(h.dir, "bin", "alohad"))
	noFile(t, h.pidFile("master", "1"))
}

// Each start keeps the previous logs as .out.1 (newest) to .out.5.
func TestLogRotation(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	log := h.logFile("worker", "1")
	// Failing starts rotate like the others and take no time.
	for i := 1; i <= 7; i++ {
		h.mustRun(1, []string{"FAKE_ALOHAD_MODE=fail", fmt.Sprintf("FAKE_ALOHAD_TAG=run%d", i)}, seedWorker...)
	}
	for n, want := range map[string]string{"": "run7", ".1": "run6", ".2": "run5", ".3": "run4", ".4": "run3", ".5": "run2"} {
		data, err := os.ReadFile(log + n)
		if err != nil {
			t.Errorf("log%s: %v", n, err)
			continue
		}
		if !strings.Contains(string(data), "TAG="+want+"\n") || strings.Count(string(data), "TAG=") != 1 {
			t.Errorf("log%s should hold %s alone, holds:\n%s", n, want, data)
		}
	}
	noFile(t, log+".6")

	// A successful start rotates too.
	h.mustRun(0, []string{"FAKE_ALOHAD_TAG=run8"}, seedWorker...)
	pid := h.pid(h.pidFile("worker", "1"))
	h.waitLog(log, "TAG=run8\n")
	h.waitLog(log+".1", "TAG=run7\n")
	h.mustRun(0, nil, "stop", "worker")
	waitGone(t, pid)
}

// ALOHA_INSTANCE tells several daemons of one role apart.
func TestInstances(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	two := []string{"ALOHA_INSTANCE=2"}
	h.mustRun(0, nil, "start", "worker", "-p", "7001", "aloha://127.0.0.1:1234")
	out := h.mustRun(0, two, "start", "worker", "-p", "7002", "aloha://127.0.0.1:1234")
	mustContain(t, "start of instance 2", out, h.logFile("worker", "2"))
	pid1, pid2 := h.pid(h.pidFile("worker", "1")), h.pid(h.pidFile("worker", "2"))
	if pid1 == pid2 {
		t.Fatalf("both instances have pid %d", pid1)
	}
	h.waitLog(h.logFile("worker", "1"), "fake alohad worker -p 7001 ")
	h.waitLog(h.logFile("worker", "2"), "fake alohad worker -p 7002 ")

	mustContain(t, "status 2", h.mustRun(0, two, "status", "worker"), fmt.Sprintf("(pid %d)", pid2))
	h.mustRun(0, two, "stop", "worker")
	waitGone(t, pid2)
	noFile(t, h.pidFile("worker", "2"))
	h.mustRun(1, two, "status", "worker")

	mustContain(t, "status 1", h.mustRun(0, nil, "status", "worker"), fmt.Sprintf("(pid %d)", pid1))
	h.mustRun(0, nil, "stop", "worker")
	waitGone(t, pid1)
}

// A daemon that ignores SIGTERM is killed after ALOHA_STOP_TIMEOUT seconds.
func TestStopEscalatesToSIGKILL(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.mustRun(0, []string{"FAKE_ALOHAD_MODE=stubborn"}, seedMaster...)
	pid := h.pid(h.pidFile("master", "1"))
	out := h.mustRun(0, []string{"ALOHA_STOP_TIMEOUT=1"}, "stop", "master")
	mustContain(t, "stop", out, "stopping master", "killing it")
	waitGone(t, pid)
	noFile(t, h.pidFile("master", "1"))
	h.waitLog(h.logFile("master", "1"), "fake alohad: ignoring SIGTERM")
}

// restart stops the running daemon and starts it with the new arguments.
func TestRestart(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.mustRun(0, nil, seedMaster...)
	old := h.pid(h.pidFile("master", "1"))
	out := h.mustRun(0, nil, "restart", "master", "-h", "127.0.0.1", "-p", "4321")
	mustContain(t, "restart", out, "stopping master", "starting master")
	waitGone(t, old)
	pid := h.pid(h.pidFile("master", "1"))
	if pid == old {
		t.Fatal("restart kept the old pid")
	}
	h.waitLog(h.logFile("master", "1"), "fake alohad master -h 127.0.0.1 -p 4321\n")
	h.waitLog(h.logFile("master", "1")+".1", "fake alohad master -h 127.0.0.1 -p 1234\n", "fake alohad: SIGTERM")
	h.mustRun(0, nil, "stop", "master")
	waitGone(t, pid)
}

// Without ALOHA_LOG_DIR and ALOHA_CONF_DIR the script uses ALOHA_HOME's logs
// and conf, and it exports what conf/aloha-env.sh assigns (which may use
// unset variables) to alohad.
func TestDefaultsAndEnvFile(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	var env []string
	for _, kv := range h.env {
		if !strings.HasPrefix(kv, "ALOHA_LOG_DIR=") {
			env = append(env, kv)
		}
	}
	h.env = env
	h.write("conf/aloha-env.sh", "ALOHA_TEST_FROM_ENV_SH=yes${ALOHA_TEST_UNSET_VARIABLE}\n", 0o644)
	h.logDir = filepath.Join(h.dir, "logs")

	out := h.mustRun(0, nil, seedMaster...)
	log := h.logFile("master", "1")
	mustContain(t, "start", out, "logging to "+log)
	pid := h.pid(h.pidFile("master", "1"))
	h.waitLog(log, "FROM_ENV_SH=yes ")
	h.mustRun(0, nil, "stop", "master")
	waitGone(t, pid)
}

func TestUsage(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	for _, args := range [][]string{
		nil,
		{"start"},
		{"launch", "master"},
		{"start", "driver"},
		{"status", "Master"},
	} {
		out := h.mustRun(1, nil, args...)
		mustContain(t, fmt.Sprintf("output of %q", args), out,
			"Usage: aloha-daemon.sh (start|stop|status|restart) (master|worker|local)")
	}
	files, _ := filepath.Glob(filepath.Join(h.pidDir, "*"))
	if len(files) != 0 {
		t.Errorf("bad arguments left files: %v", files)
	}
}

// make dist builds the tarball with the layout and modes the README's
// commands rely on.
func TestDistTarball(t *testing.T) {
	for _, tool := range []string{"make", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH", tool)
		}
	}
	t.Parallel()
	const version = "0.0.0-test"
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "dist", "VERSION="+version, "DISTDIR="+out)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, msg)
	}

	tarball := filepath.Join(out, "aloha-"+version+"-dist.tar.gz")
	top := "aloha-" + version + "/"
	want := map[string]os.FileMode{
		top:                                      os.ModeDir | 0o755,
		top + "bin/":                             os.ModeDir | 0o755,
		top + "bin/alohad":                       0o755,
		top + "bin/alohactl":                     0o755,
		top + "sbin/":                            os.ModeDir | 0o755,
		top + "sbin/aloha-daemon.sh":             0o755,
		top + "conf/":                            os.ModeDir | 0o755,
		top + "conf/aloha-default.conf.template": 0o644,
		top + "conf/aloha-env.sh.template":       0o644,
		top + "application/":                     os.ModeDir | 0o755,
		top + "application/README.md":            0o644,
		top + "LICENSE":                          0o644,
		top + "README.md":                        0o644,
	}
	// Files whose content must be the repository's.
	same := map[string]string{
		top + "sbin/aloha-daemon.sh":             "sbin/aloha-daemon.sh",
		top + "conf/aloha-default.conf.template": "conf/aloha-default.conf.template",
		top + "conf/aloha-env.sh.template":       "conf/aloha-env.sh.template",
		top + "application/README.md":            "application/README.md",
		top + "LICENSE":                          "LICENSE",
		top + "README.md":                        "README.md",
	}

	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	seen := map[string]bool{}
	extracted := t.TempDir()
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := hdr.Name
		if hdr.Typeflag == tar.TypeDir && !strings.HasSuffix(name, "/") {
			name += "/"
		}
		seen[name] = true
		mode, ok := want[name]
		if !ok {
			if !strings.HasPrefix(name, top) {
				t.Errorf("%s is outside the top directory %s", name, top)
			}
			continue
		}
		if got := hdr.FileInfo().Mode() & (os.ModeDir | os.ModePerm); got != mode {
			t.Errorf("%s has mode %v, want %v", name, got, mode)
		}
		if mode.IsDir() {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			t.Errorf("%s is not a regular file (type %q)", name, hdr.Typeflag)
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) == 0 {
			t.Errorf("%s is empty", name)
		}
		if src, ok := same[name]; ok {
			repo, err := os.ReadFile(filepath.Join(root, src))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, repo) {
				t.Errorf("%s differs from the repository's %s", name, src)
			}
		}
		if strings.HasPrefix(name, top+"bin/") {
			bin := filepath.Join(extracted, filepath.Base(name))
			if err := os.WriteFile(bin, data, 0o755); err != nil {
				t.Fatal(err)
			}
			// Built with make build's ldflags: the version is the one given.
			info, err := exec.CommandContext(ctx, "go", "version", "-m", bin).CombinedOutput()
			if err != nil {
				t.Errorf("go version -m %s: %v\n%s", name, err, info)
			} else if !strings.Contains(string(info), "buildinfo.Version="+version) {
				t.Errorf("%s was not linked with buildinfo.Version=%s:\n%s", name, version, info)
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("the tarball lacks %s", name)
		}
	}
}
