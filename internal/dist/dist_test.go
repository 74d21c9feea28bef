//go:build unix

package dist

import (
	"context"
	"errors"
	"fmt"
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
