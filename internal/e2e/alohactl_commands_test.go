package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/alohasched/aloha/api"
)

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
