package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// seedBody is the create request of the seed README's curl walkthrough,
// byte for byte.
const seedBody = `{"action":"CreateSubmissionRequest","name":"test","entryPoint":"me.jrwang.app.SimpleProcess","libs":["/path/to/aloha/application"],"args":"i=0; while [ $i -le 10 ]; do echo $i; ((i++)); sleep 1; done","cores":1,"memory":256}`

// seedID is the application id of the seed README's status and kill
// commands.
const seedID = "app-20190311221731-0000"

// fakeBackend is an in-memory Backend. Errors set in its fields are
// returned by the matching method; calls are recorded.
type fakeBackend struct {
	mu        sync.Mutex
	submitted []api.AppSpec
	calls     []string
	listReq   *api.ListAppsRequest

	apps    map[string]api.AppInfo
	workers []api.WorkerInfo
	info    api.MasterInfo
	killMsg string

	submitErr, statusErr, killErr, listErr, workersErr, infoErr error
	// block, when set, is waited on by Status (to hold a request in
	// flight).
	block chan struct{}
}

func newFake() *fakeBackend {
	return &fakeBackend{apps: map[string]api.AppInfo{}, info: api.MasterInfo{URL: "aloha://127.0.0.1:7077", State: api.MasterAlive}}
}

func (f *fakeBackend) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeBackend) Submitted() []api.AppSpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.AppSpec(nil), f.submitted...)
}

func (f *fakeBackend) Submit(_ context.Context, spec api.AppSpec) (string, error) {
	f.record("Submit")
	if f.submitErr != nil {
		return "", f.submitErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.submitted = append(f.submitted, spec)
	return fmt.Sprintf("app-20190311221731-%04d", len(f.submitted)-1), nil
}

func (f *fakeBackend) Status(_ context.Context, id string) (*api.AppInfo, error) {
	f.record("Status " + id)
	if f.block != nil {
		<-f.block
	}
	if f.statusErr != nil {
		return nil, f.statusErr
	}
	a, ok := f.apps[id]
	if !ok {
		return nil, notFound(id)
	}
	return &a, nil
}

func (f *fakeBackend) Kill(_ context.Context, id string) (*api.KillAppResponse, error) {
	f.record("Kill " + id)
	if f.killErr != nil {
		return nil, f.killErr
	}
	if _, ok := f.apps[id]; !ok {
		return nil, notFound(id)
	}
	return &api.KillAppResponse{AppID: id, State: api.AppKilled, Message: f.killMsg}, nil
}

func (f *fakeBackend) ListApps(_ context.Context, req api.ListAppsRequest) ([]api.AppInfo, error) {
	f.record("ListApps")
	f.mu.Lock()
	f.listReq = &req
	f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []api.AppInfo
	for _, id := range sortedKeys(f.apps) {
		out = append(out, f.apps[id])
	}
	return out, nil
}

func (f *fakeBackend) Workers(context.Context) ([]api.WorkerInfo, error) {
	f.record("Workers")
	return f.workers, f.workersErr
}

func (f *fakeBackend) MasterInfo(context.Context) (*api.MasterInfo, error) {
	f.record("MasterInfo")
	if f.infoErr != nil {
		return nil, f.infoErr
	}
	info := f.info
	return &info, nil
}

// sortedKeys lists ids newest first, as the master answers.
func sortedKeys(m map[string]api.AppInfo) []string {
	keys := slices.Sorted(maps.Keys(m))
	slices.Reverse(keys)
	return keys
}

func notFound(id string) error {
	return &wire.RemoteError{Code: api.CodeNotFound, Message: "no application " + id}
}

func remoteErr(code, msg, detail string) error {
	return &wire.RemoteError{Code: code, Message: msg, Detail: detail}
}

var errPlain = errors.New("disk on fire")

// logSink collects log records.
type logSink struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *logSink) WithGroup(string) slog.Handler            { return s }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, r)
	return nil
}

func (s *logSink) Records() []slog.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slog.Record(nil), s.recs...)
}

func startServer(t *testing.T, b Backend, opts Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHandler(b, opts))
	t.Cleanup(srv.Close)
	return srv
}

// result is an HTTP answer; JSON holds the decoded body when it is JSON.
type result struct {
	Status int
	Header http.Header
	Body   string
	JSON   map[string]any
}

// do sends a request; hdr are "Key: value" pairs.
func do(t *testing.T, srv *httptest.Server, method, path, body string, hdr ...string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	return send(t, srv, req)
}

func send(t *testing.T, srv *httptest.Server, req *http.Request) result {
	t.Helper()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	res := result{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
	if req.Method != http.MethodHead && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &res.JSON); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v\n%s", req.Method, req.URL, err, b)
		}
	}
	return res
}

// wantJSON checks the status, the content type, the protocol version and
// the action of a JSON answer.
func wantJSON(t *testing.T, what string, res result, status int, action string) {
	t.Helper()
	if res.Status != status {
		t.Errorf("%s: status = %d, want %d; body %s", what, res.Status, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); ct != contentTypeJSON {
		t.Errorf("%s: Content-Type = %q, want %q", what, ct, contentTypeJSON)
		return
	}
	if got := res.JSON["action"]; got != action {
		t.Errorf("%s: action = %v, want %s; body %s", what, got, action, res.Body)
	}
	if got := res.JSON["serverProtocolVersion"]; got != "v1" {
		t.Errorf("%s: serverProtocolVersion = %v, want v1", what, got)
	}
}

// wantError checks an ErrorResponse and that its message holds every one
// of parts.
func wantError(t *testing.T, what string, res result, status int, parts ...string) {
	t.Helper()
	wantJSON(t, what, res, status, "ErrorResponse")
	msg, _ := res.JSON["message"].(string)
	if msg == "" {
		t.Errorf("%s: ErrorResponse without a message: %s", what, res.Body)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s: message %q does not mention %q", what, msg, p)
		}
	}
	_, hasHighest := res.JSON["highestProtocolVersion"]
	if hasHighest != (status == StatusUnknownProtocolVersion) {
		t.Errorf("%s: highestProtocolVersion present = %v with status %d", what, hasHighest, status)
	}
}

// wantBody compares a decoded JSON body with want, field by field.
func wantBody(t *testing.T, what string, res result, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(res.JSON, want) {
		got, _ := json.Marshal(res.JSON)
		exp, _ := json.Marshal(want)
		t.Errorf("%s: body = %s, want %s", what, got, exp)
	}
}
