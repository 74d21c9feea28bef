package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/internal/testutil"
)

// topTerm is alohactl top running in a real pseudo-terminal: a detached
// session of a tmux server of its own, driven with send-keys and read
// with capture-pane.
type topTerm struct {
	t      *testing.T
	sock   string
	stderr string // alohactl's stderr: race reports, panics
	status string // its exit status, once it exited
}

// startTop runs alohactl top against master in a width×height terminal,
// with env added to a cleaned environment. Without tmux the test is
// skipped, loudly, unless CI is set (.ci/run installs tmux).
func startTop(t *testing.T, master string, width, height int, env ...string) *topTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("tmux is not installed; .ci/run installs it (apt-get install tmux)")
		}
		t.Skipf("SKIPPED: tmux is not installed, so alohactl top is not tested in a terminal (apt-get install tmux)")
	}
	dir, err := os.MkdirTemp("", "aloha-top-") // short: a socket path has a length limit
	if err != nil {
		t.Fatal(err)
	}
	tt := &topTerm{t: t, sock: filepath.Join(dir, "s"), stderr: filepath.Join(dir, "stderr"), status: filepath.Join(dir, "status")}
	conf := filepath.Join(dir, "tmux.conf")
	os.WriteFile(conf, []byte("set -g remain-on-exit on\nset -g status off\nset -g history-limit 0\n"), 0o644)
	var cmdEnv []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ALOHA_") && !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "TMUX") {
			cmdEnv = append(cmdEnv, kv)
		}
	}
	cmdEnv = append(cmdEnv, "GORACE=atexit_sleep_ms=0 halt_on_error=1")
	cmdEnv = append(cmdEnv, env...)
	cmdEnv = append(cmdEnv, "TOP_STDERR="+tt.stderr, "TOP_STATUS="+tt.status)
	// A shell runs alohactl and writes down its exit status: tmux does
	// not always notice promptly that a pane's process ended.
	cmd := exec.Command("tmux", "-S", tt.sock, "-f", conf, "new-session", "-d", "-s", "top",
		"-x", fmt.Sprint(width), "-y", fmt.Sprint(height),
		"sh", "-c", `"$0" "$@" 2>"$TOP_STDERR"; echo $? >"$TOP_STATUS.tmp"; mv "$TOP_STATUS.tmp" "$TOP_STATUS"`,
		filepath.Join(binDir, "alohactl"), "--master", master, "top")
	cmd.Env = cmdEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			errOut, _ := os.ReadFile(tt.stderr)
			t.Logf("the terminal at the end:\n%s\nalohactl top's stderr:\n%s", tt.capture(), errOut)
		}
		exec.Command("tmux", "-S", tt.sock, "kill-server").Run()
		os.RemoveAll(dir)
	})
	return tt
}

func (tt *topTerm) tmux(args ...string) string {
	tt.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tt.sock}, args...)...).CombinedOutput()
	if err != nil {
		tt.t.Fatalf("tmux %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// capture returns the screen as text.
func (tt *topTerm) capture() string { return tt.tmux("capture-pane", "-p", "-t", "top") }

// keys presses keys, tmux key names (Enter, Escape, C-k) or characters.
func (tt *topTerm) keys(keys ...string) {
	tt.tmux(append([]string{"send-keys", "-t", "top"}, keys...)...)
}

// typed types text.
func (tt *topTerm) typed(text string) { tt.tmux("send-keys", "-t", "top", "-l", text) }

// waitFor waits until the screen satisfies ok and returns it.
func (tt *topTerm) waitFor(what string, ok func(screen string) bool) string {
	tt.t.Helper()
	var screen string
	testutil.WaitFor(tt.t, time.Minute, func() error {
		if screen = tt.capture(); ok(screen) {
			return nil
		}
		return fmt.Errorf("the screen does not show %s:\n%s", what, screen)
	})
	return screen
}

// waitText waits until the screen holds every text.
func (tt *topTerm) waitText(texts ...string) string {
	tt.t.Helper()
	return tt.waitFor(fmt.Sprintf("%q", texts), func(s string) bool {
		for _, x := range texts {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	})
}

// row returns the screen line that shows id.
func row(screen, id string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, id) && !strings.Contains(l, "Detail") {
			return l
		}
	}
	return ""
}

// waitRow waits until id's row shows every text.
func (tt *topTerm) waitRow(id string, texts ...string) string {
	tt.t.Helper()
	return tt.waitFor(fmt.Sprintf("%s with %q", id, texts), func(s string) bool {
		r := row(s, id)
		for _, x := range texts {
			if !strings.Contains(r, x) {
				return false
			}
		}
		return r != ""
	})
}

// exited waits for top to end and returns its exit status.
func (tt *topTerm) exited() string {
	tt.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(tt.status); err == nil {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Show where it hangs: its goroutines go to its stderr.
	sh := strings.TrimSpace(tt.tmux("display-message", "-p", "-t", "top", "#{pane_pid}"))
	exec.Command("pkill", "-QUIT", "-P", sh).Run()
	time.Sleep(time.Second)
	tt.t.Fatalf("alohactl top still runs 30 s after q")
	return ""
}

// save writes the screen to $ALOHA_TOP_CAPTURE_DIR/name.txt, if set: the
// README's pictures of the views come from there.
func (tt *topTerm) save(name, screen string) {
	if dir := os.Getenv("ALOHA_TOP_CAPTURE_DIR"); dir != "" {
		lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " ")
		}
		os.WriteFile(filepath.Join(dir, name+".txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	}
}

// An operator's session against alohad local: applications appear and
// finish, the filter narrows the list, the logs open, a kill is first
// cancelled then confirmed, and q quits with status 0.
func TestTopEndToEnd(t *testing.T) {
	url := startCtlLocal(t)
	c := ctl{t: t, master: url}
	greeter := strings.TrimSpace(c.ok("submit", "-n", "greeter", "-m", "64", "--", "echo hello-top; echo oops-top >&2"))
	c.waitState(greeter, api.AppFinished)

	tt := startTop(t, url, 150, 40)
	tt.waitText("● connected", "[1 Apps]", "workers 2 alive")
	tt.waitRow(greeter, "greeter", "FINISHED")

	// Applications submitted now appear from the event stream, run and
	// finish.
	ticker := strings.TrimSpace(c.ok("submit", "-n", "ticker", "-m", "64", "--", "for i in 1 2 3; do echo tick $i; sleep 0.5; done"))
	sleeper := strings.TrimSpace(c.ok("submit", "-n", "sleeper", "-m", "64", "--", "sleep 300"))
	tt.waitRow(sleeper, "sleeper", "RUNNING", "127.0.0.1:")
	tt.waitRow(ticker, "ticker", "FINISHED")
	apps := tt.waitText("Apps [3]", "1 running")
	tt.save("apps", apps)

	// The filter applies as it is typed; esc clears it.
	tt.keys("/")
	tt.typed("sleep")
	s := tt.waitText("[1 of 3]", "/sleep")
	if row(s, greeter) != "" || row(s, sleeper) == "" {
		t.Errorf("filtered by sleep, the screen is:\n%s", s)
	}
	tt.keys("Enter")
	tt.waitText("(esc clears)")
	tt.keys("Escape")
	tt.waitText("Apps [3]")

	// The logs of an application: stdout, then stderr.
	tt.keys("/")
	tt.typed("greeter")
	tt.keys("Enter")
	tt.waitText("[1 of 3]", "(esc clears)")
	tt.keys("l")
	tt.waitText("Logs stdout", "hello-top", "[4 Detail "+greeter+"]")
	tt.keys("Escape")
	tt.waitText("[1 Apps]", "[1 of 3]")
	tt.keys("Enter")
	tt.save("detail", tt.waitText("HISTORY", "FINISHED", "exited with status 0", "hello-top"))
	tt.keys("o")
	tt.waitText("Logs stderr", "oops-top")
	tt.keys("Escape")
	tt.waitText("[1 Apps]", "[1 of 3]")
	tt.keys("Escape")
	tt.waitText("Apps [3]")

	// A kill asks first, naming the application; n cancels, y kills.
	tt.keys("/")
	tt.typed("sleeper")
	tt.keys("Enter")
	tt.waitText("[1 of 3]", "(esc clears)")
	tt.keys("C-k")
	tt.save("kill", tt.waitText("Kill application "+sleeper+"?", "sleeper", "[ Cancel ]"))
	tt.keys("n")
	tt.waitText("kill of " + sleeper + " cancelled")
	if info := c.status(sleeper); info.State != api.AppRunning {
		t.Fatalf("after a cancelled kill %s is %s", sleeper, info.State)
	}
	tt.keys("C-k")
	tt.waitText("Kill application " + sleeper + "?")
	tt.keys("y")
	tt.waitRow(sleeper, "KILLED")
	c.waitState(sleeper, api.AppKilled)
	tt.keys("Escape")
	tt.waitText("Apps [3]")

	// The other views and the help.
	tt.keys("2")
	workers := tt.waitFor("two ALIVE workers", func(s string) bool {
		alive := 0
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "worker-") && strings.Contains(l, " ALIVE ") {
				alive++
			}
		}
		return strings.Contains(s, "[2 Workers]") && alive == 2
	})
	tt.save("workers", workers)
	tt.keys("3")
	tt.save("events", tt.waitText("[3 Events]", "AppStateChanged", "KILLED", "WorkerJoined", "LeaderChanged"))
	tt.keys("?")
	tt.save("help", tt.waitText("Keys: Events view", "pause / resume"))
	tt.keys("x")
	tt.waitFor("the help closed", func(s string) bool { return !strings.Contains(s, "Keys: Events view") })
	tt.keys("1")
	tt.waitText("[1 Apps]")
	tt.keys("?")
	tt.save("help-apps", tt.waitText("Keys: Apps view", "sort by NAME"))
	tt.keys("Escape")
	tt.waitFor("the help closed", func(s string) bool { return !strings.Contains(s, "Keys: Apps view") })

	tt.keys("q")
	if status := tt.exited(); status != "0" {
		t.Errorf("alohactl top exited with status %s, want 0", status)
	}
}

// A narrow terminal with NO_COLOR: the least important columns go first,
// and nothing is coloured; made wider, the table reflows.
func TestTopNarrowWithoutColour(t *testing.T) {
	url := startCtlLocal(t)
	c := ctl{t: t, master: url}
	id := strings.TrimSpace(c.ok("submit", "-n", "narrow", "-m", "64", "--", "true"))
	c.waitState(id, api.AppFinished)
	tt := startTop(t, url, 72, 20, "NO_COLOR=1")
	s := tt.waitRow(id, "FINISHED")
	var header string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "  ID") {
			header = l
		}
	}
	if !strings.Contains(header, "STATE") || strings.Contains(header, "RESTARTS") || strings.Contains(header, "DURATION") {
		t.Errorf("72 columns wide, the header is %q", header)
	}
	if esc := tt.tmux("capture-pane", "-p", "-e", "-t", "top"); regexp.MustCompile(`\x1b\[[0-9;]*[1-9][0-9;]*m`).MatchString(esc) {
		t.Errorf("with NO_COLOR the screen has colours or attributes:\n%q", esc)
	}
	// Wider, the table reflows and shows every column.
	tt.tmux("resize-window", "-t", "top", "-x", "150", "-y", "30")
	tt.waitText("DURATION", "RESTARTS")
	tt.keys("q")
	if status := tt.exited(); status != "0" {
		t.Errorf("exit status %s", status)
	}
}

// With no master to talk to, top says so and keeps running. Without a
// terminal it refuses to start.
func TestTopUnreachableMaster(t *testing.T) {
	ctl{t: t, master: "aloha://127.0.0.1:1"}.fails(2, `top needs a terminal`, "top")
	tt := startTop(t, "aloha://127.0.0.1:1", 120, 24)
	tt.waitText("⟳ reconnecting", "no master reachable at aloha://127.0.0.1:1")
	tt.keys("2")
	tt.waitText("[2 Workers]")
	tt.keys("q")
	if status := tt.exited(); status != "0" {
		t.Errorf("exit status %s", status)
	}
}
