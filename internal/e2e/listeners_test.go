package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/internal/testutil"
)

// The built-in webhook and exec listeners, configured on the command
// line, see an application's whole life.
func TestListenersSeeALifeCycle(t *testing.T) {
	var mu sync.Mutex
	var posted []api.Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var e api.Event
		if err := json.Unmarshal(body, &e); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		mu.Lock()
		posted = append(posted, e)
		mu.Unlock()
	}))
	defer hook.Close()
	dir := t.TempDir()
	execLog := filepath.Join(dir, "exec.log")
	_, url, _ := startMaster(t, dir,
		"-Daloha.extraListeners=webhook,exec,log",
		"-Daloha.listener.webhook.url="+hook.URL,
		`-Daloha.listener.exec.command=echo "$ALOHA_EVENT_TYPE $ALOHA_EVENT_APP_ID $ALOHA_EVENT_STATE" >> `+execLog)
	startWorker(t, filepath.Join(dir, "work"), url)
	c := clientFor(t, url)
	id, err := c.Submit(ctxFor(t), api.AppSpec{Name: "seen", EntryPoint: "shell", Args: "true", Memory: 16})
	if err != nil {
		t.Fatal(err)
	}
	waitClientState(t, c, id, api.AppFinished)
	testutil.WaitFor(t, 30*time.Second, func() error {
		mu.Lock()
		var states []string
		for _, e := range posted {
			if e.AppID == id {
				states = append(states, string(e.State))
			}
		}
		mu.Unlock()
		if got := strings.Join(states, ","); got != "SUBMITTED,LAUNCHING,RUNNING,FINISHED" {
			return fmt.Errorf("webhook saw %q", got)
		}
		return nil
	})
	testutil.WaitFor(t, 30*time.Second, func() error {
		b, _ := os.ReadFile(execLog)
		if !strings.Contains(string(b), "AppStateChanged "+id+" FINISHED") {
			return fmt.Errorf("exec listener wrote %q", b)
		}
		return nil
	})
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
