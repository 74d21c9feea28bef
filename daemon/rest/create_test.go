package rest

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
)

// The seed README's curl command must work as written (DESIGN §7).
func TestCreate_SeedWalkthrough(t *testing.T) {
	b := newFake()
	srv := startServer(t, b, Options{})
	// curl -d sends a form content type; the server must not care.
	res := do(t, srv, "POST", "/v1/submissions/create", seedBody, "Content-Type: application/x-www-form-urlencoded")
	wantJSON(t, "create", res, 200, "CreateSubmissionResponse")
	wantBody(t, "create", res, map[string]any{
		"action":                "CreateSubmissionResponse",
		"message":               "Application successfully submitted as " + seedID,
		"serverProtocolVersion": "v1",
		"submissionId":          seedID,
		"success":               true,
	})
	want := api.AppSpec{
		Name:       "test",
		EntryPoint: "me.jrwang.app.SimpleProcess",
		Libs:       []string{"/path/to/aloha/application"},
		Args:       "i=0; while [ $i -le 10 ]; do echo $i; ((i++)); sleep 1; done",
		Cores:      1,
		Memory:     256,
		Restart:    api.RestartPolicy{Policy: api.RestartNever},
	}
	got := b.Submitted()
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("submitted specs = %+v, want [%+v]", got, want)
	}
}

func TestCreate_Defaults(t *testing.T) {
	b := newFake()
	srv := startServer(t, b, Options{})
	res := do(t, srv, "POST", "/v1/submissions/create",
		`{"action":"CreateSubmissionRequest","name":"n","entryPoint":"shell","cores":null}`)
	wantJSON(t, "create", res, 200, "CreateSubmissionResponse")
	got := b.Submitted()
	if len(got) != 1 || got[0].Cores != api.DefaultCores || got[0].Memory != api.DefaultMemoryMB {
		t.Fatalf("submitted %+v, want cores %d and memory %d", got, api.DefaultCores, api.DefaultMemoryMB)
	}
	if _, ok := res.JSON["unknownFields"]; ok {
		t.Errorf("unknownFields present without unknown fields: %s", res.Body)
	}
}

func TestCreate_GoSideFields(t *testing.T) {
	b := newFake()
	srv := startServer(t, b, Options{})
	body := `{"action":"CreateSubmissionRequest","name":"etl","entryPoint":"exec","argv":["/bin/echo","a b"],
		"env":{"A":"1"},"labels":{"team":"data"},"maxRuntime":"90s","supervise":true,
		"restart":{"policy":"on-failure","maxAttempts":5,"backoff":2}}`
	res := do(t, srv, "POST", "/v1/submissions/create", body)
	wantJSON(t, "create", res, 200, "CreateSubmissionResponse")
	want := api.AppSpec{
		Name: "etl", EntryPoint: "exec", Argv: []string{"/bin/echo", "a b"},
		Cores: 1, Memory: 1024, Supervise: true,
		Env: map[string]string{"A": "1"}, Labels: map[string]string{"team": "data"},
		MaxRuntime: api.Duration(90 * time.Second),
		Restart:    api.RestartPolicy{Policy: api.RestartOnFailure, MaxAttempts: 5, Backoff: api.Duration(2 * time.Second)},
	}
	if got := b.Submitted(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("submitted specs = %+v, want [%+v]", got, want)
	}
}

func TestCreate_UnknownFields(t *testing.T) {
	b := newFake()
	srv := startServer(t, b, Options{})
	body := `{"action":"CreateSubmissionRequest","name":"n","entryPoint":"shell","zeta":1,"Name":"x",
		"clientSparkVersion":"3.5.0","restart":{"policy":"never","jitter":true}}`
	res := do(t, srv, "POST", "/v1/submissions/create", body)
	wantJSON(t, "create", res, 200, "CreateSubmissionResponse")
	want := []any{"Name", "clientSparkVersion", "restart.jitter", "zeta"}
	if got := res.JSON["unknownFields"]; !reflect.DeepEqual(got, want) {
		t.Errorf("unknownFields = %v, want %v", got, want)
	}
	if got := b.Submitted(); len(got) != 1 || got[0].Name != "n" {
		t.Errorf("submitted %+v, want name n (field names are case-sensitive)", got)
	}
}

// Every malformed create request is a 400 ErrorResponse naming what is
// wrong, and never reaches the master.
func TestCreate_BadRequests(t *testing.T) {
	const ok = `"action":"CreateSubmissionRequest","name":"n","entryPoint":"shell"`
	cases := []struct {
		name, body string
		mention    []string
	}{
		{"empty body", "", []string{"empty"}},
		{"blank body", " \n\t", []string{"empty"}},
		{"malformed JSON", `{"action":`, []string{"invalid JSON"}},
		{"trailing garbage", `{` + ok + `} x`, []string{"invalid JSON"}},
		{"array", `[]`, []string{"JSON object", "[]"}},
		{"string", `"x"`, []string{"JSON object"}},
		{"number", `3`, []string{"JSON object"}},
		{"null", `null`, []string{"JSON object", "null"}},
		{"missing action", `{"name":"n","entryPoint":"shell"}`, []string{"action"}},
		{"null action", `{"action":null,"name":"n","entryPoint":"shell"}`, []string{"action"}},
		{"action not a string", `{"action":7,"name":"n","entryPoint":"shell"}`, []string{"action"}},
		{"other action", `{"action":"KillSubmissionRequest","name":"n","entryPoint":"shell"}`, []string{"KillSubmissionRequest", "CreateSubmissionRequest"}},
		{"missing name", `{"action":"CreateSubmissionRequest","entryPoint":"shell"}`, []string{`"name"`}},
		{"blank name", `{"action":"CreateSubmissionRequest","name":"  ","entryPoint":"shell"}`, []string{`"name"`}},
		{"missing entryPoint", `{"action":"CreateSubmissionRequest","name":"n"}`, []string{`"entryPoint"`}},
		{"zero cores", `{` + ok + `,"cores":0}`, []string{`"cores"`}},
		{"negative cores", `{` + ok + `,"cores":-2}`, []string{`"cores"`}},
		{"zero memory", `{` + ok + `,"memory":0}`, []string{`"memory"`}},
		{"negative memory", `{` + ok + `,"memory":-1}`, []string{`"memory"`}},
		{"cores a string", `{` + ok + `,"cores":"two"}`, []string{`"cores"`, "integer", `"two"`}},
		{"cores a fraction", `{` + ok + `,"cores":1.5}`, []string{`"cores"`}},
		{"cores too large", `{` + ok + `,"cores":1e40}`, []string{`"cores"`}},
		{"memory a bool", `{` + ok + `,"memory":true}`, []string{`"memory"`}},
		{"libs a string", `{` + ok + `,"libs":"x"}`, []string{`"libs"`, "array"}},
		{"libs of numbers", `{` + ok + `,"libs":[1]}`, []string{`"libs"`}},
		{"name a number", `{"action":"CreateSubmissionRequest","name":5,"entryPoint":"shell"}`, []string{`"name"`}},
		{"args an array", `{` + ok + `,"args":["a"]}`, []string{`"args"`}},
		{"supervise a string", `{` + ok + `,"supervise":"yes"}`, []string{`"supervise"`}},
		{"env of numbers", `{` + ok + `,"env":{"A":1}}`, []string{`"env"`}},
		{"env bad name", `{` + ok + `,"env":{"A=B":"1"}}`, []string{`"env"`}},
		{"labels an array", `{` + ok + `,"labels":[]}`, []string{`"labels"`}},
		{"maxRuntime garbage", `{` + ok + `,"maxRuntime":"soon"}`, []string{`"maxRuntime"`}},
		{"maxRuntime negative", `{` + ok + `,"maxRuntime":-5}`, []string{`"maxRuntime"`}},
		{"restart a string", `{` + ok + `,"restart":"always"}`, []string{`"restart"`}},
		{"restart bad policy", `{` + ok + `,"restart":{"policy":"always"}}`, []string{`"restart.policy"`}},
		{"restart attempts a string", `{` + ok + `,"restart":{"policy":"on-failure","maxAttempts":"3"}}`, []string{`"restart.maxAttempts"`}},
		{"restart negative attempts", `{` + ok + `,"restart":{"policy":"on-failure","maxAttempts":-1}}`, []string{`"restart.maxAttempts"`}},
		{"entryPoint with spaces", `{"action":"CreateSubmissionRequest","name":"n","entryPoint":"a b"}`, []string{`"entryPoint"`}},
		{"args with NUL", `{` + ok + `,"args":"a\u0000b"}`, []string{`"args"`}},
	}
	b := newFake()
	srv := startServer(t, b, Options{})
	for _, tc := range cases {
		res := do(t, srv, "POST", "/v1/submissions/create", tc.body)
		wantError(t, tc.name, res, 400, tc.mention...)
	}
	if got := b.Submitted(); len(got) != 0 {
		t.Errorf("malformed requests reached the master: %+v", got)
	}
}

// paddedSeed returns the seed body padded with spaces to n bytes.
func paddedSeed(n int) string { return seedBody + strings.Repeat(" ", n-len(seedBody)) }

func TestCreate_BodyLimit(t *testing.T) {
	b := newFake()
	srv := startServer(t, b, Options{})
	for _, chunked := range []bool{false, true} {
		for _, tc := range []struct {
			size   int
			status int
		}{{maxBodyBytes, 200}, {maxBodyBytes + 1, 413}} {
			var body io.Reader = strings.NewReader(paddedSeed(tc.size))
			if chunked { // hide the length: the server must count
				body = io.MultiReader(body)
			}
			req, err := http.NewRequest("POST", srv.URL+"/v1/submissions/create", body)
			if err != nil {
				t.Fatal(err)
			}
			res := send(t, srv, req)
			what := fmt.Sprintf("body of %d bytes (chunked %v)", tc.size, chunked)
			if tc.status == 200 {
				wantJSON(t, what, res, 200, "CreateSubmissionResponse")
			} else {
				wantError(t, what, res, 413, "too large")
			}
		}
	}
}

func TestCreate_BackendErrors(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		status  int
		mention []string
		logged  bool
	}{
		{"invalid", remoteErr(api.CodeInvalid, "unknown application kind \"me.jrwang.app.SimpleProcess\"", ""), 400, []string{"unknown application kind"}, false},
		{"refused", remoteErr(api.CodeRefused, "needs 64 cores, the largest worker has 8", ""), 400, []string{"64 cores"}, false},
		{"standby with leader", remoteErr(api.CodeStandby, "not the leader", "aloha://10.0.0.2:7077"), 503, []string{"standby", "aloha://10.0.0.2:7077"}, true},
		{"standby without leader", remoteErr(api.CodeStandby, "not the leader", ""), 503, []string{"standby"}, true},
		{"internal remote", remoteErr("internal", "store write failed", ""), 500, []string{"store write failed"}, true},
		{"plain error", errPlain, 500, []string{"disk on fire"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newFake()
			b.submitErr = tc.err
			sink := &logSink{}
			srv := startServer(t, b, Options{Logger: slog.New(sink)})
			res := do(t, srv, "POST", "/v1/submissions/create", seedBody)
			wantError(t, tc.name, res, tc.status, tc.mention...)
			recs := sink.Records()
			if tc.logged {
				if len(recs) != 1 || recs[0].Level != slog.LevelError {
					t.Fatalf("log records %v for a %d, want one error", recs, tc.status)
				}
				attrs := map[string]string{}
				recs[0].Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
				if attrs["status"] != fmt.Sprint(tc.status) || attrs["path"] != "/v1/submissions/create" ||
					!strings.Contains(attrs["error"], tc.mention[0]) {
					t.Errorf("log attributes %v, want status %d, the path and the error", attrs, tc.status)
				}
			}
			if !tc.logged && len(recs) != 0 {
				t.Errorf("%d log records for a %d, want none", len(recs), tc.status)
			}
		})
	}
}

func TestCreate_SuccessIsNotLogged(t *testing.T) {
	sink := &logSink{}
	srv := startServer(t, newFake(), Options{Logger: slog.New(sink)})
	wantJSON(t, "create", do(t, srv, "POST", "/v1/submissions/create", seedBody), 200, "CreateSubmissionResponse")
	wantError(t, "bad", do(t, srv, "POST", "/v1/submissions/create", "[]"), 400)
	if recs := sink.Records(); len(recs) != 0 {
		t.Errorf("%d log records for a 200 and a 400, want none", len(recs))
	}
}
