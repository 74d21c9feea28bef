package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/internal/testutil"
)

var sample = api.Event{
	Seq: 42, Time: time.Date(2026, 12, 4, 16, 28, 43, 500_000_000, time.UTC), Type: api.EventAppStateChanged,
	AppID: "app-20261204162843-0007", State: api.AppFailed, Message: "exited with status 3", WorkerID: "worker-1", WorkerAddr: "127.0.0.1:4000",
}

// hook is an httptest server answering with the statuses given, in turn
// (the last one from then on), and keeping every request.
type hook struct {
	srv      *httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
}

func newHook(t *testing.T, answer func(n int, w http.ResponseWriter)) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.requests = append(h.requests, r)
		h.bodies = append(h.bodies, body)
		n := len(h.requests)
		h.mu.Unlock()
		answer(n, w)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func statuses(codes ...int) func(int, http.ResponseWriter) {
	return func(n int, w http.ResponseWriter) {
		w.WriteHeader(codes[min(n, len(codes))-1])
	}
}

func (h *hook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.requests)
}

func newTestWebhook(t *testing.T, url string, retries int) *Webhook {
	t.Helper()
	w, err := NewWebhook(WebhookOptions{URL: url, Timeout: 5 * time.Second, Retries: retries, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhookPostsTheEventAsJSON(t *testing.T) {
	h := newHook(t, statuses(http.StatusNoContent))
	w := newTestWebhook(t, h.srv.URL+"/hooks/aloha?token=x", 3)
	if err := w.OnEvent(context.Background(), sample); err != nil {
		t.Fatalf("OnEvent = %v", err)
	}
	if h.count() != 1 {
		t.Fatalf("%d requests, want 1", h.count())
	}
	r := h.requests[0]
	if r.Method != http.MethodPost || r.URL.Path != "/hooks/aloha" || r.URL.Query().Get("token") != "x" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request = %s %s, Content-Type %q", r.Method, r.URL, r.Header.Get("Content-Type"))
	}
	var got api.Event
	if err := json.Unmarshal(h.bodies[0], &got); err != nil {
		t.Fatalf("body %s: %v", h.bodies[0], err)
	}
	if !got.Time.Equal(sample.Time) {
		t.Fatalf("time = %v, want %v", got.Time, sample.Time)
	}
	got.Time = sample.Time
	if got != sample {
		t.Fatalf("posted event = %+v, want %+v", got, sample)
	}
	for _, field := range []string{`"type":"AppStateChanged"`, `"appId":"app-20261204162843-0007"`, `"state":"FAILED"`, `"seq":42`} {
		if !bytes.Contains(h.bodies[0], []byte(field)) {
			t.Errorf("body %s lacks %s", h.bodies[0], field)
		}
	}
}

func TestWebhookRetriesServerErrorsThenSucceeds(t *testing.T) {
	h := newHook(t, statuses(500, 503, 200))
	if err := newTestWebhook(t, h.srv.URL, 3).OnEvent(context.Background(), sample); err != nil {
		t.Fatalf("OnEvent = %v", err)
	}
	if h.count() != 3 {
		t.Fatalf("%d requests, want 3 (two 5xx, then 200)", h.count())
	}
}

func TestWebhookGivesUpAfterItsRetries(t *testing.T) {
	h := newHook(t, statuses(502))
	err := newTestWebhook(t, h.srv.URL, 2).OnEvent(context.Background(), sample)
	if err == nil || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("OnEvent = %v, want a 502 after 3 attempts", err)
	}
	if h.count() != 3 {
		t.Fatalf("%d requests, want 3", h.count())
	}
}

func TestWebhookDoesNotRetryClientErrors(t *testing.T) {
	h := newHook(t, func(_ int, w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, "no such hook")
	})
	err := newTestWebhook(t, h.srv.URL+"/x?token=secret", 3).OnEvent(context.Background(), sample)
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "no such hook") {
		t.Fatalf("OnEvent = %v, want the 400 with its body", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error %q shows the URL's query", err)
	}
	if h.count() != 1 {
		t.Fatalf("%d requests, want 1: a 4xx is not retried", h.count())
	}
}

func TestWebhookRetriesNetworkErrors(t *testing.T) {
	var hijacked atomic.Bool
	h := newHook(t, func(n int, w http.ResponseWriter) {
		if n == 1 { // the connection dies without an answer
			hijacked.Store(true)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	if err := newTestWebhook(t, h.srv.URL, 3).OnEvent(context.Background(), sample); err != nil {
		t.Fatalf("OnEvent = %v", err)
	}
	if !hijacked.Load() || h.count() != 2 {
		t.Fatalf("%d requests, want 2 (a dropped connection, then 200)", h.count())
	}
}

func TestNewWebhookRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://example.com/x", "http://", "://x"} {
		if _, err := NewWebhook(WebhookOptions{URL: u}); err == nil {
			t.Errorf("NewWebhook(%q) = nil error", u)
		}
	}
}

// A failing webhook behind a dispatcher: one failure counted and logged
// once per event, however many attempts it took.
func TestWebhookFailureCountedAndLoggedOnce(t *testing.T) {
	h := newHook(t, statuses(500))
	var logs strings.Builder
	var mu sync.Mutex
	d := NewDispatcher([]Listener{newTestWebhook(t, h.srv.URL, 2)}, DispatcherOptions{Log: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	runDispatcher(t, d)
	d.Publish(sample)
	testutil.WaitFor(t, 10*time.Second, func() error {
		if st := d.Stats()[0]; st.Failures != 1 || st.Name != "webhook" {
			return fmt.Errorf("Stats() = %+v", st)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "event listener failed"); n != 1 || h.count() != 3 {
		t.Fatalf("%d log lines for %d attempts:\n%s", n, h.count(), logs.String())
	}
}

func TestExecListenerPassesTheEventInItsEnvironment(t *testing.T) {
	t.Setenv("ALOHA_SECRET", "must-not-leak")
	out := filepath.Join(t.TempDir(), "env")
	x, err := NewExec(ExecOptions{Command: "env > '" + out + "'", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := sample
	e.Type, e.NewAppID, e.Leader, e.Epoch = api.EventAppRelaunched, "app-20261204162843-0008", "", 0
	if err := x.OnEvent(context.Background(), e); err != nil {
		t.Fatalf("OnEvent = %v", err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for line := range strings.SplitSeq(string(data), "\n") {
		// The event's variables, and the secret if it leaked; the test
		// environment may hold other ALOHA_* variables of its own.
		if strings.HasPrefix(line, "ALOHA_EVENT_") || strings.HasPrefix(line, "ALOHA_SECRET") {
			got = append(got, line)
		}
	}
	sort.Strings(got)
	want := []string{
		"ALOHA_EVENT_APP_ID=app-20261204162843-0007",
		"ALOHA_EVENT_DROPPED=",
		"ALOHA_EVENT_EPOCH=",
		"ALOHA_EVENT_LEADER=",
		"ALOHA_EVENT_MESSAGE=exited with status 3",
		"ALOHA_EVENT_NEW_APP_ID=app-20261204162843-0008",
		"ALOHA_EVENT_SEQ=42",
		"ALOHA_EVENT_STATE=FAILED",
		"ALOHA_EVENT_TIME=2026-12-04T16:28:43.5Z",
		"ALOHA_EVENT_TYPE=AppRelaunched",
		"ALOHA_EVENT_WORKER_ADDR=127.0.0.1:4000",
		"ALOHA_EVENT_WORKER_ID=worker-1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("environment:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestExecListenerEpochOfALeaderChange(t *testing.T) {
	out := filepath.Join(t.TempDir(), "env")
	x, err := NewExec(ExecOptions{Command: `printf '%s|%s|%s' "$ALOHA_EVENT_LEADER" "$ALOHA_EVENT_EPOCH" "$ALOHA_EVENT_APP_ID" > '` + out + `'`})
	if err != nil {
		t.Fatal(err)
	}
	e := api.Event{Seq: 1, Type: api.EventLeaderChanged, Leader: "aloha://127.0.0.1:7077", Epoch: 1733329723000}
	if err := x.OnEvent(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(out); string(data) != "aloha://127.0.0.1:7077|1733329723000|" {
		t.Fatalf("command saw %q", data)
	}
}

func TestExecListenerFailures(t *testing.T) {
	x, err := NewExec(ExecOptions{Command: "echo oops >&2; exit 3"})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.OnEvent(context.Background(), sample); err == nil || !strings.Contains(err.Error(), "status 3") || !strings.Contains(err.Error(), "oops") {
		t.Fatalf("OnEvent of a failing command = %v", err)
	}
	x, err = NewExec(ExecOptions{Command: "sleep 60 & sleep 60", Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := x.OnEvent(context.Background(), sample); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("OnEvent of a hanging command = %v", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("the timeout took %s", took)
	}
	if _, err := NewExec(ExecOptions{Command: "  "}); err == nil {
		t.Fatal("NewExec without a command = nil error")
	}
}

func TestLogListenerWritesOneLinePerEvent(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogListener(slog.New(slog.NewJSONHandler(&buf, nil)))
	if err := l.OnEvent(context.Background(), sample); err != nil {
		t.Fatal(err)
	}
	if err := l.OnEvent(context.Background(), api.Event{Seq: 50, Type: api.EventLagged, Dropped: 7}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	if first["level"] != "INFO" || first["type"] != "AppStateChanged" || first["seq"] != 42.0 || first["app"] != sample.AppID ||
		first["state"] != "FAILED" || first["worker"] != "worker-1" || first["new_app"] != nil {
		t.Fatalf("first line = %s", lines[0])
	}
	if second["level"] != "WARN" || second["dropped"] != "7" {
		t.Fatalf("second line = %s", lines[1])
	}
}
