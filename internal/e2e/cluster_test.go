package e2e

import (
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

// DESIGN §4: a worker silent for aloha.worker.timeout is DEAD; its apps are
// relaunched elsewhere if supervise, else ERROR. Here the worker is killed
// with SIGKILL; when it comes back on its work directory, the master kills
// the runs it no longer knows, so nothing runs twice after the restart.
func TestWorkerKilledWithSIGKILL(t *testing.T) {
	dir := t.TempDir()
	_, url, rest := startMaster(t, dir, "-Daloha.worker.timeout=2s")
	doomedDir := filepath.Join(dir, "doomed")
	doomed := startWorker(t, doomedDir, url, "-c", "2")
	sup := submit(t, rest, appBody("supervised", "sleep 1000", `,"supervise":true`))
	plain := submit(t, rest, appBody("plain", "sleep 1000", ""))
	doomedID := waitState(t, rest, sup, "RUNNING")["workerId"]
	waitState(t, rest, plain, "RUNNING")
	healthy := startWorker(t, filepath.Join(dir, "healthy"), url, "-c", "2")
	orphans := []int{readPid(t, filepath.Join(doomedDir, sup)), readPid(t, filepath.Join(doomedDir, plain))}

	doomed.kill9WorkerOnly()

	old := waitState(t, rest, sup, "RELAUNCHING")
	msg := old["message"].(string)
	newID := strings.TrimPrefix(strings.Fields(msg)[2], "")
	newID = strings.TrimSuffix(newID, ":")
	if !strings.HasPrefix(msg, "relaunched as app-") {
		t.Fatalf("old supervised app message = %q", msg)
	}
	relaunched := waitState(t, rest, newID, "RUNNING")
	if relaunched["workerId"] == doomedID {
		t.Fatalf("relaunched on the dead worker %v", doomedID)
	}
	failed := waitState(t, rest, plain, "ERROR")
	if !strings.Contains(failed["message"].(string), "lost") {
		t.Fatalf("unsupervised app message = %v", failed["message"])
	}
	// The dead worker's processes outlived it. A worker restarted on its
	// directory re-attaches them and the master, which has moved on, has
	// them killed.
	for _, pid := range orphans {
		if len(liveInGroup(pid)) == 0 {
			t.Fatalf("orphan %d already gone", pid)
		}
	}
	startWorker(t, doomedDir, url, "-c", "2")
	for _, pid := range orphans {
		waitGone(t, pid)
	}
	if st := status(t, rest, newID); st["driverState"] != "RUNNING" {
		t.Fatalf("relaunched app disturbed by the restart: %v", st)
	}
	_ = healthy
}

// kill9WorkerOnly kills the worker process alone, leaving its
// applications (in their own process groups) running, as a crash does.
func (p *proc) kill9WorkerOnly() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func readPid(t *testing.T, dir string) int {
	t.Helper()
	var pid int
	testutil.WaitFor(t, 10*time.Second, func() error {
		b, err := os.ReadFile(filepath.Join(dir, "app.pid"))
		if err != nil {
			return err
		}
		pid, err = strconv.Atoi(strings.Fields(string(b))[0])
		return err
	})
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })
	return pid
}

// waitGone waits until no live process is left in the group pgid.
// Zombies count as gone: they run nothing, and the init of a container
// may take its time reaping orphans.
func waitGone(t *testing.T, pgid int) {
	t.Helper()
	testutil.WaitFor(t, 30*time.Second, func() error {
		if live := liveInGroup(pgid); len(live) > 0 {
			return fmt.Errorf("process group %d still has live processes %v", pgid, live)
		}
		return nil
	})
}

// liveInGroup lists the processes of group pgid that are not zombies.
func liveInGroup(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var live []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces) start after ")".
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		f := strings.Fields(rest)
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			live = append(live, pid)
		}
	}
	return live
}

func TestLocalRunsApplications(t *testing.T) {
	dir := t.TempDir()
	l := start(t, dir, nil, "alohad", "local", "-p", "0", "--rest-port", "0", "--workers", "2", "--cores", "2", "--memory", "1g", "--work-dir", filepath.Join(dir, "work"))
	rest := "http://" + l.waitLog(`msg="rest server listening" addr=(127\.0\.0\.1:\d+)`)[1]
	l.waitLog(`(?s)Successfully registered.*Successfully registered`)
	id := submit(t, rest, appBody("hello", "echo hello from $ALOHA_APP_ID", ""))
	st := waitState(t, rest, id, "FINISHED")
	matches, _ := filepath.Glob(filepath.Join(dir, "work", "worker-*", id, "stdout"))
	if len(matches) != 1 {
		t.Fatalf("stdout of %s not found under the work dir (status %v)", id, st)
	}
	if got := scanLines(t, matches[0]); len(got) != 1 || got[0] != "hello from "+id {
		t.Fatalf("stdout = %q", got)
	}
	_, info := restJSON(t, "GET", rest+"/json", "")
	if info["aliveworkers"] != float64(2) || info["cores"] != float64(4) || info["memory"] != float64(2048) {
		t.Fatalf("/json = %v", info)
	}
	l.stop()
	if l.err != nil {
		t.Fatalf("alohad local exited with %v after SIGTERM", l.err)
	}
}

// Bad configuration refuses to start with one line naming the key, the
// value and where it came from.
func TestBadConfigurationRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "aloha.conf")
	os.WriteFile(conf, []byte("aloha.worker.timeout = 30s\naloha.deploy.spreadOut = maybe\n"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"master", "-Daloha.worker.timeout=abc"}, `aloha.worker.timeout = "abc" (from -D)`},
		{[]string{"master", "--properties-file", conf}, `aloha.deploy.spreadOut = "maybe" (from file ` + conf + `:2)`},
		{[]string{"master", "--properties-file", filepath.Join(dir, "missing.conf")}, "missing.conf"},
		{[]string{"master", "-p", "70000"}, `aloha.master.port = "70000"`},
		{[]string{"worker", "-c", "-3", "aloha://127.0.0.1:7077"}, "-3"},
		{[]string{"worker", "not a url"}, "not a url"},
		{[]string{"worker"}, "master-url"},
		{[]string{"local", "--workers", "0", "-p", "0", "--rest-port", "0"}, "--workers 0"},
	}
	for _, tc := range cases {
		cmd := exec.Command(filepath.Join(binDir, "alohad"), tc.args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Errorf("alohad %v: exit %v, want a failure; output:\n%s", tc.args, err, out)
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		last := lines[len(lines)-1]
		if !strings.HasPrefix(last, "alohad: ") || !strings.Contains(last, tc.want) {
			t.Errorf("alohad %v: last line %q, want one line naming %q", tc.args, last, tc.want)
		}
	}
}

func TestUnknownKeysAreWarnedAbout(t *testing.T) {
	dir := t.TempDir()
	m, _, _ := startMaster(t, dir, "-Daloha.worker.timout=30s")
	m.waitLog(`aloha\.worker\.timout.*did you mean aloha\.worker\.timeout`)
}
