//go:build unix

package dist

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

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
