package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
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

func TestAlohactlCommandsLocal(t *testing.T) {
	exerciseCtlCommands(t, ctl{t: t, master: startCtlLocal(t)})
}

func TestAlohactlCommandsMasterAndWorkers(t *testing.T) {
	url, _ := startCtlCluster(t)
	exerciseCtlCommands(t, ctl{t: t, master: url})
}

// exerciseCtlCommands runs every command in table and JSON form.
func exerciseCtlCommands(t *testing.T, c ctl) {
	out := c.ok("version")
	if !strings.HasPrefix(out, "alohactl ") || !strings.Contains(out, "master ") || !strings.Contains(out, c.master) {
		t.Errorf("version = %q, want alohactl's and the master's", out)
	}
	var ver struct {
		Client string          `json:"client"`
		Master *api.MasterInfo `json:"master"`
	}
	if c.json(&ver, "version"); ver.Master == nil || ver.Master.URL != c.master || ver.Master.AliveWorkers != 2 {
		t.Errorf("version -o json = %+v", ver)
	}

	out = c.ok("workers")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 ||
		!regexp.MustCompile(`^ID\s+ADDRESS\s+STATE\s+CORES\s+MEMORY\s+APPS\s+LAST HEARTBEAT$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^worker-\S+\s+127\.0\.0\.1:\d+\s+ALIVE\s+\d/2\s+\S+/1G\s+\d+\s+\d+s ago$`).MatchString(lines[1]) {
		t.Errorf("workers =\n%s", out)
	}
	var workers []api.WorkerInfo
	if c.json(&workers, "workers"); len(workers) != 2 || workers[0].State != api.WorkerAlive || workers[0].Cores != 2 || workers[0].Memory != 1024 {
		t.Errorf("workers -o json = %+v", workers)
	}

	id := strings.TrimSpace(c.ok("submit", "-n", "greet", "-m", "64", "--env", "WHO=world", "--label", "team=data", "--", "echo hello $WHO; echo 'to stderr' >&2; echo bye"))
	if !ctlAppIDRe.MatchString(id) || ctlAppIDRe.FindString(id) != id {
		t.Fatalf("submit printed %q, want an application id", id)
	}
	info := c.waitState(id, api.AppFinished)
	if info.Spec.Name != "greet" || info.Spec.Memory != 64 || info.Spec.Env["WHO"] != "world" || info.Spec.Labels["team"] != "data" ||
		info.Spec.Args != "echo hello $WHO; echo 'to stderr' >&2; echo bye" || info.ExitCode == nil || *info.ExitCode != 0 {
		t.Errorf("status -o json = %+v", info)
	}
	out = c.ok("status", id)
	for _, want := range []string{"ID:", id, "Name:", "greet", "State:", "FINISHED", "Exit code:", "Memory:", "64M", "Labels:", "team=data", "History:", "SUBMITTED", "RUNNING"} {
		if !strings.Contains(out, want) {
			t.Errorf("status %s lacks %q:\n%s", id, want, out)
		}
	}
	var sub map[string]string
	c.json(&sub, "submit", "-m", "64", "-k", "exec", "--", "/bin/echo", "two words", "$HOME")
	execInfo := c.waitState(sub["id"], api.AppFinished)
	if len(execInfo.Spec.Argv) != 3 || execInfo.Spec.Argv[1] != "two words" || execInfo.Spec.Name != "echo" {
		t.Errorf("submit -k exec: spec %+v", execInfo.Spec)
	}
	if got := c.ok("logs", sub["id"]); got != "two words $HOME\n" {
		t.Errorf("logs of the exec app = %q", got)
	}

	if got := c.ok("logs", id); got != "hello world\nbye\n" {
		t.Errorf("logs = %q", got)
	}
	if got := c.ok("logs", "--tail", "1", id); got != "bye\n" {
		t.Errorf("logs --tail 1 = %q", got)
	}
	if got := c.ok("logs", "--stderr", "--tail", "1", id); got != "to stderr\n" {
		t.Errorf("logs --stderr --tail 1 = %q", got)
	}
	lines := ctlJSONLines(t, c.ok("-o", "json", "logs", id))
	if len(lines) != 2 || lines[0]["type"] != "Output" || lines[0]["appId"] != id || lines[0]["stream"] != "stdout" || lines[1]["line"] != "bye" {
		t.Errorf("logs -o json = %v", lines)
	}

	victim := strings.TrimSpace(c.ok("submit", "-n", "victim", "-m", "64", "--", "sleep 600"))
	c.waitState(victim, api.AppRunning)
	out = c.ok("list")
	if !regexp.MustCompile(`(?m)^ID\s+NAME\s+KIND\s+STATE\s+WORKER\s+CORES\s+MEM\s+AGE\s+DURATION\s+RESTARTS$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^`+victim+`\s+victim\s+shell\s+RUNNING\s+127\.0\.0\.1:\d+\s+1\s+64M\s+\d+s\s+\d+s\s+0$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^`+id+`\s+greet\s+shell\s+FINISHED\s`).MatchString(out) {
		t.Errorf("list =\n%s", out)
	}
	var apps []api.AppInfo
	if c.json(&apps, "list", "--state", "running"); len(apps) != 1 || apps[0].ID != victim {
		t.Errorf("list --state running -o json = %+v", apps)
	}
	if c.json(&apps, "list", "--state", "FINISHED,FAILED", "--limit", "1"); len(apps) != 1 || apps[0].State != api.AppFinished {
		t.Errorf("list --state FINISHED,FAILED --limit 1 -o json = %+v", apps)
	}
	if out := c.ok("kill", victim); !strings.Contains(out, victim) {
		t.Errorf("kill = %q", out)
	}
	c.waitState(victim, api.AppKilled)
	other := strings.TrimSpace(c.ok("submit", "-m", "64", "--", "sleep 600"))
	var killed map[string]string
	if c.json(&killed, "kill", other); killed["id"] != other || killed["message"] == "" {
		t.Errorf("kill -o json = %v", killed)
	}
	c.waitState(other, api.AppKilled)

	out = c.ok("events")
	if !regexp.MustCompile(`(?m)^\S+ \S+\s+#\d+\s+AppStateChanged\s+` + id + `\s+FINISHED\s+exited with status 0$`).MatchString(out) {
		t.Errorf("events =\n%s", out)
	}
	var seen []string
	for _, e := range ctlJSONLines(t, c.ok("-o", "json", "events")) {
		if e["appId"] == victim {
			seen = append(seen, e["state"].(string))
		}
	}
	if strings.Join(seen, " ") != "SUBMITTED LAUNCHING RUNNING KILLED" {
		t.Errorf("events -o json for %s: states %v", victim, seen)
	}
}

// ctlJSONLines decodes one JSON object per line.
func ctlJSONLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line (%v): %q", err, line)
		}
		out = append(out, m)
	}
	return out
}

// submit --wait exits with the application's outcome: 0 when FINISHED,
// its exit status when FAILED, 137 when KILLED; its stdout is the
// application's stdout.
func TestAlohactlSubmitWaitExitCodes(t *testing.T) {
	url, _ := startCtlCluster(t)
	c := ctl{t: t, master: url}
	out, errOut, code := c.run("submit", "--wait", "-m", "64", "--", "echo one; echo two")
	if code != 0 || out != "one\ntwo\n" || !regexp.MustCompile(`app-\S+ RUNNING: .*\n.*app-\S+ FINISHED: exited with status 0\n$`).MatchString(errOut) {
		t.Errorf("submit --wait (finishes) = exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = c.run("submit", "--wait", "-m", "64", "--", "echo failing; exit 3")
	if code != 3 || out != "failing\n" || !strings.HasSuffix(errOut, "FAILED: exited with status 3\n") {
		t.Errorf("submit --wait (exit 3) = exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	lines := ctlJSONLines(t, c.ok("-o", "json", "submit", "--wait", "-m", "64", "--", "echo json"))
	var states []string
	var output []string
	for _, l := range lines[1:] {
		switch l["type"] {
		case "AppStateChanged":
			states = append(states, l["state"].(string))
		case "Output":
			output = append(output, l["line"].(string))
		}
	}
	if !ctlAppIDRe.MatchString(fmt.Sprint(lines[0]["id"])) || strings.Join(states, " ") != "SUBMITTED LAUNCHING RUNNING FINISHED" || strings.Join(output, "|") != "json" {
		t.Errorf("submit --wait -o json = %v", lines)
	}

	w := c.start("submit", "--wait", "-m", "64", "--", "echo ready; sleep 600")
	w.waitOut(w.out, "ready\n")
	id := w.waitOut(w.errOut, `(`+ctlAppID+`) RUNNING`)[1]
	c.ok("kill", id)
	if code := w.exit(); code != 137 || !strings.HasSuffix(w.errOut.String(), "alohactl: "+id+" KILLED: killed on request\n") {
		t.Errorf("submit --wait killed from another alohactl = exit %d, stderr %q", code, w.errOut.String())
	}
}

// submit --wait --supervise follows the application when its worker is
// lost and it is relaunched under a new id.
func TestAlohactlSubmitWaitFollowsRelaunch(t *testing.T) {
	url, workers := startCtlCluster(t, "-Daloha.worker.timeout=2s")
	c := ctl{t: t, master: url}
	w := c.start("submit", "--wait", "--supervise", "-m", "64", "--", "echo ready; sleep 600")
	id := w.waitOut(w.errOut, `(`+ctlAppID+`) RUNNING`)[1]
	w.waitOut(w.out, "ready\n")
	info := c.status(id)
	for _, cw := range workers {
		if cw.addr == info.WorkerAddr {
			cw.p.kill9WorkerOnly() // its application runs on, until sweepCtlApps
		}
	}
	newID := w.waitOut(w.errOut, id+` RELAUNCHING: relaunched as (`+ctlAppID+`)`)[1]
	w.waitOut(w.errOut, newID+` RUNNING`)
	w.waitOut(w.out, "ready\nready\n")
	c.ok("kill", newID)
	if code := w.exit(); code != 137 {
		t.Errorf("submit --wait after a relaunch = exit %d, want 137", code)
	}
}

// logs -f prints what the application writes after it started and
// returns when the application ends.
func TestAlohactlLogsFollow(t *testing.T) {
	c := ctl{t: t, master: startCtlLocal(t)}
	gate := filepath.Join(t.TempDir(), "go")
	id := strings.TrimSpace(c.ok("submit", "-m", "64", "--", "echo before; while [ ! -e "+gate+" ]; do sleep 0.05; done; echo after 1; echo after 2"))
	c.waitState(id, api.AppRunning)
	f := c.start("logs", "-f", id)
	j := c.start("-o", "json", "logs", "-f", "--tail", "1", id)
	f.waitOut(f.out, "before\n")
	j.waitOut(j.out, `"line":"before"`)
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code := f.exit(); code != 0 || f.out.String() != "before\nafter 1\nafter 2\n" {
		t.Errorf("logs -f = exit %d, stdout %q, stderr %q", code, f.out.String(), f.errOut.String())
	}
	var got []string
	if code := j.exit(); code == 0 {
		for _, l := range ctlJSONLines(t, j.out.String()) {
			got = append(got, fmt.Sprint(l["line"]))
		}
	}
	if strings.Join(got, "|") != "before|after 1|after 2" {
		t.Errorf("logs -f --tail 1 -o json = exit %d, stdout %q", j.code, j.out.String())
	}
}

// events -f sees an application's whole life as it happens and stops
// when interrupted.
func TestAlohactlEventsFollow(t *testing.T) {
	c := ctl{t: t, master: startCtlLocal(t)}
	ev := c.start("-o", "json", "events", "-f")
	table := c.start("events", "-f")
	gate := filepath.Join(t.TempDir(), "go")
	id := strings.TrimSpace(c.ok("submit", "-m", "64", "--", "while [ ! -e "+gate+" ]; do sleep 0.05; done"))
	ev.waitOut(ev.out, `"appId":"`+id+`","state":"RUNNING"`)
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ev.waitOut(ev.out, `"appId":"`+id+`","state":"FINISHED"`)
	table.waitOut(table.out, `AppStateChanged\s+`+id+`\s+FINISHED`)
	var states []string
	for _, e := range ctlJSONLines(t, ev.out.String()) {
		if e["appId"] == id {
			states = append(states, e["state"].(string))
		}
	}
	if strings.Join(states, " ") != "SUBMITTED LAUNCHING RUNNING FINISHED" {
		t.Errorf("events -f for %s: %v", id, states)
	}
	for _, p := range []*ctlProc{ev, table} {
		p.cmd.Process.Signal(syscall.SIGINT)
		if code := p.exit(); code != 130 || p.errOut.String() != "" {
			t.Errorf("events -f after SIGINT = exit %d, stderr %q; want 130 and nothing", code, p.errOut.String())
		}
	}
}

// Every failure is one line on stderr, prefixed alohactl:, saying what
// went wrong and what to do; usage errors exit 2, others 1.
func TestAlohactlErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := "aloha://" + ln.Addr().String()
	ln.Close()
	none := ctl{t: t, master: nobody}
	noMaster := `^alohactl: no master reachable at ` + regexp.QuoteMeta(nobody) + ` \(connection refused\); is the master running\? set --master or ALOHA_MASTER\n$`
	none.fails(1, noMaster, "--timeout", "1s", "list")
	ctl{t: t, env: []string{"ALOHA_MASTER=" + nobody}}.fails(1, noMaster, "--timeout", "1s", "workers")

	c := ctl{t: t, master: startCtlLocal(t)}
	const unknown = "app-20990101000000-0000"
	for _, cmd := range []string{"status", "kill", "logs"} {
		c.fails(1, `^alohactl: no application `+unknown+` \(check the id with alohactl list\)\n$`, cmd, unknown)
	}
	c.fails(1, `^alohactl: unknown application kind "nokind"; known kinds: exec, `, "submit", "-k", "nokind", "--", "true")
	c.fails(2, `^alohactl: unknown flag --bogus \(see alohactl list --help\)\n$`, "list", "--bogus")
	c.fails(2, `^alohactl: --output must be one of "table","json" but got "xml"`, "-o", "xml", "list")
	c.fails(2, `^alohactl: --memory "2x": unknown unit "x"`, "submit", "-m", "2x", "--", "true")
	c.fails(2, `^alohactl: --env "FOO": want KEY=VALUE\n$`, "submit", "--env", "FOO", "--", "true")
	c.fails(2, `^alohactl: --state: unknown application state "sleeping"`, "list", "--state", "sleeping")
	c.fails(2, `^alohactl: no command given: put it after --`, "submit")
	c.fails(2, `^alohactl: --master "http://x": scheme must be aloha://`, "--master", "http://x", "list")
	c.fails(2, `^alohactl: expected "<app-id>" \(see alohactl status --help\)\n$`, "status")
}

// The secret comes from --secret-file or ALOHA_SECRET, never from a flag
// value; a wrong one is reported as such.
func TestAlohactlSecret(t *testing.T) {
	dir := t.TempDir()
	_, url, _ := startMaster(t, dir, "-Daloha.authenticate.secret=s3cret")
	right, wrong := filepath.Join(dir, "right"), filepath.Join(dir, "wrong")
	os.WriteFile(right, []byte("s3cret\n"), 0o600)
	os.WriteFile(wrong, []byte("guess\n"), 0o600)
	ctl{t: t, master: url, env: []string{"ALOHA_SECRET=s3cret"}}.ok("list")
	ctl{t: t, master: url}.ok("--secret-file", right, "workers")
	ctl{t: t, master: url, env: []string{"ALOHA_SECRET=guess"}}.ok("--secret-file", right, "list") // the file wins
	unauthenticated := `^alohactl: authentication failed at ` + regexp.QuoteMeta(url) + `: .*check ALOHA_SECRET or --secret-file`
	ctl{t: t, master: url, env: []string{"ALOHA_SECRET=guess"}}.fails(1, unauthenticated, "list")
	ctl{t: t, master: url}.fails(1, unauthenticated, "--secret-file", wrong, "list")
	ctl{t: t, master: url}.fails(1, unauthenticated, "--timeout", "5s", "list")
	ctl{t: t, master: url}.fails(2, `^alohactl: cannot read the secret file: .*no such file`, "--secret-file", filepath.Join(dir, "missing"), "list")
}

// States are coloured on a terminal only, and never with NO_COLOR or
// --no-color. Pipes are checked by every other test (ctl.run).
func TestAlohactlColour(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) is needed to give alohactl a terminal")
	}
	c := ctl{t: t, master: startCtlLocal(t)}
	onTTY := func(env string, args ...string) string {
		line := strings.Join(append([]string{filepath.Join(binDir, "alohactl"), "--master", c.master}, args...), " ")
		cmd := exec.Command("script", "-qec", line, "/dev/null")
		cmd.Env = append(c.command(context.Background()).Env, env)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s on a terminal: %v: %s", line, err, out)
		}
		return string(out)
	}
	if out := onTTY("X=1", "workers"); !strings.Contains(out, "\x1b[32mALIVE\x1b[0m") {
		t.Errorf("workers on a terminal: no colour in %q", out)
	}
	if out := onTTY("NO_COLOR=1", "workers"); strings.Contains(out, "\x1b[") || !strings.Contains(out, "ALIVE") {
		t.Errorf("workers with NO_COLOR on a terminal = %q", out)
	}
	if out := onTTY("X=1", "--no-color", "workers"); strings.Contains(out, "\x1b[") || !strings.Contains(out, "ALIVE") {
		t.Errorf("workers --no-color on a terminal = %q", out)
	}
}

// The completion scripts complete commands, flags and their values.
func TestAlohactlCompletion(t *testing.T) {
	c := ctl{t: t}
	dir := t.TempDir()
	for _, sh := range []string{"bash", "zsh", "fish"} {
		script := filepath.Join(dir, "alohactl."+sh)
		os.WriteFile(script, []byte(c.ok("completion", sh)), 0o644)
		if _, err := exec.LookPath(sh); err != nil {
			t.Logf("%s is not installed: its script is not checked", sh)
			continue
		}
		if out, err := exec.Command(sh, "-n", script).CombinedOutput(); err != nil {
			t.Errorf("alohactl completion %s: not valid %s: %v\n%s", sh, sh, err, out)
		}
	}
	bash := func(line string) string {
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		prog := fmt.Sprintf("source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _alohactl; echo \"${COMPREPLY[*]}\"",
			filepath.Join(dir, "alohactl.bash"), `"`+strings.Join(words, `" "`)+`"`, len(words)-1)
		out, err := exec.Command("bash", "-c", prog).Output()
		if err != nil {
			t.Fatalf("bash completion of %q: %v", line, err)
		}
		return strings.TrimSpace(string(out))
	}
	for line, want := range map[string]string{
		"alohactl st":                   "status",
		"alohactl -o ":                  "table json",
		"alohactl submit --rest":        "--restart",
		"alohactl submit --restart ":    "never on-failure",
		"alohactl logs --f":             "--follow",
		"alohactl completion ":          "bash zsh fish",
		"alohactl --master x list --st": "--state",
	} {
		if got := bash(line); got != want {
			t.Errorf("bash completion of %q = %q, want %q", line, got, want)
		}
	}
	if _, err := exec.LookPath("fish"); err == nil {
		out, err := exec.Command("fish", "-c", "source "+filepath.Join(dir, "alohactl.fish")+"; complete -C'alohactl submit --restart '").Output()
		if err != nil || !strings.HasPrefix(string(out), "never\t") {
			t.Errorf("fish completion of --restart = %q, %v", out, err)
		}
	}
}
