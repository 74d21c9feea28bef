package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/internal/testutil"
)

// ctlAppID matches an application id.
const ctlAppID = `app-\d{14}-\d{4,}`

var ctlAppIDRe = regexp.MustCompile(ctlAppID)

// ctl runs the built alohactl against one master, with an environment
// cleared of the caller's ALOHA_* and NO_COLOR variables plus env.
type ctl struct {
	t      *testing.T
	master string
	env    []string
}

func (c ctl) command(ctx context.Context, args ...string) *exec.Cmd {
	if c.master != "" {
		args = append([]string{"--master", c.master}, args...)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "alohactl"), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ALOHA_") && !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "GORACE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// A race-enabled binary otherwise sleeps a second when it exits.
	cmd.Env = append(cmd.Env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Env = append(cmd.Env, c.env...)
	return cmd
}

// run runs alohactl to its end and returns its stdout, stderr and exit
// code.
func (c ctl) run(args ...string) (string, string, int) {
	c.t.Helper()
	p := c.start(args...)
	code := p.exit()
	return p.out.String(), p.errOut.String(), code
}

// ok runs alohactl, which must succeed, and returns its stdout.
func (c ctl) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("alohactl %q = exit %d, stderr %q", args, code, errOut)
	}
	return out
}

// json runs alohactl -o json and decodes its stdout into v.
func (c ctl) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append([]string{"-o", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("alohactl -o json %q: not JSON (%v): %s", args, err, out)
	}
}

// fails runs alohactl, which must exit with code and one line on stderr
// matching re, and nothing on stdout.
func (c ctl) fails(code int, re string, args ...string) {
	c.t.Helper()
	out, errOut, got := c.run(args...)
	if got != code || out != "" || strings.Count(errOut, "\n") != 1 || !regexp.MustCompile(re).MatchString(errOut) {
		c.t.Errorf("alohactl %q = exit %d, stdout %q, stderr %q; want exit %d and one line matching %q", args, got, out, errOut, code, re)
	}
}

func (c ctl) status(id string) api.AppInfo {
	c.t.Helper()
	var info api.AppInfo
	c.json(&info, "status", id)
	return info
}

func (c ctl) waitState(id string, state api.AppState) api.AppInfo {
	c.t.Helper()
	var info api.AppInfo
	testutil.WaitFor(c.t, time.Minute, func() error {
		if info = c.status(id); info.State != state {
			return fmt.Errorf("%s is %s (%s), want %s", id, info.State, info.Message, state)
		}
		return nil
	})
	return info
}

// ctlProc is a running alohactl.
type ctlProc struct {
	t           *testing.T
	cmd         *exec.Cmd
	args        []string
	out, errOut *syncBuffer
	done        chan struct{}
	code        int
}

// start runs alohactl in the background; it is killed when the test ends.
// Its output is no terminal, so it must hold no ANSI escape.
func (c ctl) start(args ...string) *ctlProc {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &ctlProc{t: c.t, cmd: c.command(ctx, args...), args: args, out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errOut
	if err := p.cmd.Start(); err != nil {
		c.t.Fatalf("start alohactl %q: %v", args, err)
	}
	go func() {
		var ee *exec.ExitError
		if err := p.cmd.Wait(); errors.As(err, &ee) {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	c.t.Cleanup(func() {
		cancel() // SIGKILL, if it still runs
		<-p.done
		if out := p.out.String() + p.errOut.String(); strings.Contains(out, "\x1b[") {
			c.t.Errorf("alohactl %q wrote ANSI escapes to a pipe: %q", args, out)
		}
		if c.t.Failed() {
			c.t.Logf("alohactl %q:\nstdout:\n%s\nstderr:\n%s", args, p.out.String(), p.errOut.String())
		}
	})
	return p
}

// waitOut waits until stdout (or stderr) matches re and returns the match.
func (p *ctlProc) waitOut(buf *syncBuffer, re string) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	var m []string
	testutil.WaitFor(p.t, time.Minute, func() error {
		if m = rx.FindStringSubmatch(buf.String()); m != nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("alohactl %q exited (%d) before printing %q", p.args, p.code, re)
		default:
			return fmt.Errorf("alohactl %q has not printed %q yet", p.args, re)
		}
	})
	return m
}

// exit waits for the process to end by itself and returns its exit code.
func (p *ctlProc) exit() int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(time.Minute):
		p.t.Fatalf("alohactl %q still runs after a minute", p.args)
		return 0
	}
}

// sweepCtlApps kills, when the test ends and after its daemons, every
// application process still running under dir: applications run in
// process groups of their own, so killing a worker leaves them behind.
// A pid counts only if its start time is the one the pid file recorded.
func sweepCtlApps(t *testing.T, dir string) {
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.Name() != "app.pid" {
				return nil
			}
			var pid int
			var start string
			b, _ := os.ReadFile(path)
			if n, _ := fmt.Sscan(string(b), &pid, &start); n != 2 || pid <= 0 {
				return nil
			}
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if i := bytes.LastIndexByte(stat, ')'); i >= 0 {
				if f := strings.Fields(string(stat[i+1:])); len(f) > 19 && f[19] == start {
					syscall.Kill(-pid, syscall.SIGKILL)
				}
			}
			return nil
		})
	})
}

// startCtlLocal runs alohad local with two workers and returns the
// master's URL.
func startCtlLocal(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sweepCtlApps(t, dir)
	l := start(t, dir, nil, "alohad", "local", "-p", "0", "--rest-port", "0", "--workers", "2", "--cores", "2", "--memory", "1g", "--work-dir", filepath.Join(dir, "work"))
	url := l.waitLog(`msg="master listening" url=(aloha://127\.0\.0\.1:\d+)`)[1]
	l.waitLog(`(?s)Successfully registered.*Successfully registered`)
	return url
}

// ctlWorker is a worker started by startCtlCluster.
type ctlWorker struct {
	p    *proc
	dir  string // its work directory
	addr string // host:port
}

// startCtlCluster runs a master and two workers as separate processes and
// returns the master's URL and the workers.
func startCtlCluster(t *testing.T, masterFlags ...string) (string, []ctlWorker) {
	t.Helper()
	dir := t.TempDir()
	sweepCtlApps(t, dir)
	_, url, _ := startMaster(t, dir, masterFlags...)
	var workers []ctlWorker
	for _, name := range []string{"w1", "w2"} {
		w := ctlWorker{dir: filepath.Join(dir, name)}
		w.p = startWorker(t, w.dir, url, "-c", "2", "-m", "1g")
		w.addr = w.p.waitLog(`msg="worker listening" addr=(\S+)`)[1]
		workers = append(workers, w)
	}
	return url, workers
}
