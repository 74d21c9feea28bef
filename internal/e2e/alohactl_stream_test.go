package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/alohasched/aloha/api"
)

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
