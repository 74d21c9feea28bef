package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/internal/testutil"
)

// `alohactl events -f` and `alohactl logs -f` keep going across a
// failover: the leader is killed while they run.
func TestStreamsFollowAFailover(t *testing.T) {
	h := startHA(t, "FILESYSTEM", 2, "-Daloha.worker.timeout=10s")
	first := h.leader()
	workDir := filepath.Join(h.dir, "work")
	startWorker(t, workDir, h.masterList())
	c := h.client()
	gate := filepath.Join(h.dir, "gate")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id, err := c.Submit(ctx, api.AppSpec{Name: "ticker", EntryPoint: "shell", Memory: 16,
		Args: "i=0; while [ ! -e " + gate + " ]; do echo tick$i; i=$((i+1)); sleep 0.1; done; echo done"})
	if err != nil {
		t.Fatal(err)
	}
	waitClientState(t, c, id, api.AppRunning)
	env := []string{"ALOHA_MASTER=" + h.masterList()}
	events := start(t, h.dir, env, "alohactl", "events", "-f", "-o", "json")
	logs := start(t, h.dir, env, "alohactl", "logs", "-f", id)
	logs.waitLog(`tick2`)
	events.waitLog(`"type":"LeaderChanged"`)

	h.masters[first].kill9()
	h.leader()
	// After the failover the streams still see what happens: the app's
	// end, from the new leader, and its output to the last line.
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitClientState(t, c, id, api.AppFinished)
	events.waitLog(`"appId":"` + id + `".*"state":"FINISHED"|"state":"FINISHED".*"appId":"` + id + `"`)
	select {
	case <-logs.done:
	case <-time.After(60 * time.Second):
		t.Fatal("logs -f did not end with the application")
	}
	out := logs.out.String()
	if !strings.HasSuffix(out, "done\n") || !strings.Contains(out, "tick0\n") {
		t.Fatalf("logs -f output does not run from the first line to the last:\n%s", out)
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		if n := strings.Count(events.out.String(), `"type":"LeaderChanged"`); n < 2 {
			return fmt.Errorf("events saw %d leader changes, want 2", n)
		}
		return nil
	})
}
