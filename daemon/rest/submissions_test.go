package rest

import (
	"reflect"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
)

const workerID = "worker-20190311221700-127.0.0.1-40000"

func runningApp() api.AppInfo {
	return api.AppInfo{
		ID:          seedID,
		Spec:        api.AppSpec{Name: "test", EntryPoint: "shell", Cores: 1, Memory: 256},
		State:       api.AppRunning,
		Message:     "running since 22:17:33",
		WorkerID:    workerID,
		WorkerAddr:  "127.0.0.1:40000",
		SubmittedAt: time.Date(2019, 3, 11, 22, 17, 31, 0, time.UTC),
		StartedAt:   time.Date(2019, 3, 11, 22, 17, 33, 0, time.UTC),
	}
}

// The seed README's status command.
func TestStatus_Found(t *testing.T) {
	b := newFake()
	b.apps[seedID] = runningApp()
	srv := startServer(t, b, Options{})
	res := do(t, srv, "GET", "/v1/submissions/status/"+seedID, "")
	wantJSON(t, "status", res, 200, "SubmissionStatusResponse")
	wantBody(t, "status", res, map[string]any{
		"action":                "SubmissionStatusResponse",
		"driverState":           "RUNNING",
		"message":               "running since 22:17:33",
		"serverProtocolVersion": "v1",
		"submissionId":          seedID,
		"success":               true,
		"workerHostPort":        "127.0.0.1:40000",
		"workerId":              workerID,
	})
}

func TestStatus_OmitsEmptyFields(t *testing.T) {
	b := newFake()
	b.apps[seedID] = api.AppInfo{ID: seedID, State: api.AppSubmitted}
	srv := startServer(t, b, Options{})
	res := do(t, srv, "GET", "/v1/submissions/status/"+seedID, "")
	wantBody(t, "status", res, map[string]any{
		"action":                "SubmissionStatusResponse",
		"driverState":           "SUBMITTED",
		"serverProtocolVersion": "v1",
		"submissionId":          seedID,
		"success":               true,
	})
}

// Unknown and malformed ids are answered 200 with success false, as Spark
// does; malformed ones never reach the master.
func TestStatusAndKill_NotFound(t *testing.T) {
	b := newFake()
	srv := startServer(t, b, Options{})
	for _, id := range []string{seedID, "does-not-exist", "app-1"} {
		for _, req := range []struct{ method, path, action string }{
			{"GET", "/v1/submissions/status/" + id, "SubmissionStatusResponse"},
			{"POST", "/v1/submissions/kill/" + id, "KillSubmissionResponse"},
		} {
			what := req.method + " " + req.path
			res := do(t, srv, req.method, req.path, "")
			wantBody(t, what, res, map[string]any{
				"action":                req.action,
				"message":               "Application " + id + " not found.",
				"serverProtocolVersion": "v1",
				"submissionId":          id,
				"success":               false,
			})
		}
	}
	want := []string{"Status " + seedID, "Kill " + seedID}
	if got := b.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("backend calls = %v, want %v", got, want)
	}
}

// The seed README's kill command.
func TestKill_Success(t *testing.T) {
	for _, msg := range []string{"", "Kill request for " + seedID + " sent to " + workerID} {
		b := newFake()
		b.apps[seedID] = runningApp()
		b.killMsg = msg
		srv := startServer(t, b, Options{})
		res := do(t, srv, "POST", "/v1/submissions/kill/"+seedID, "")
		want := msg
		if want == "" {
			want = "Kill request for " + seedID + " submitted."
		}
		wantBody(t, "kill", res, map[string]any{
			"action":                "KillSubmissionResponse",
			"message":               want,
			"serverProtocolVersion": "v1",
			"submissionId":          seedID,
			"success":               true,
		})
	}
}

func TestKill_Refused(t *testing.T) {
	b := newFake()
	b.killErr = remoteErr(api.CodeRefused, "application "+seedID+" has already finished", "")
	srv := startServer(t, b, Options{})
	res := do(t, srv, "POST", "/v1/submissions/kill/"+seedID, "")
	wantJSON(t, "kill", res, 200, "KillSubmissionResponse")
	if res.JSON["success"] != false || res.JSON["message"] != "application "+seedID+" has already finished" {
		t.Errorf("kill of a finished app = %s, want success false with the master's reason", res.Body)
	}
}

func TestStatusAndKill_BackendErrors(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		status  int
		mention string
	}{
		{"standby", remoteErr(api.CodeStandby, "standby", "aloha://10.0.0.2:7077"), 503, "aloha://10.0.0.2:7077"},
		{"internal", remoteErr("internal", "boom", ""), 500, "boom"},
		{"plain", errPlain, 500, "disk on fire"},
	}
	for _, tc := range cases {
		b := newFake()
		b.statusErr, b.killErr = tc.err, tc.err
		srv := startServer(t, b, Options{})
		wantError(t, "status "+tc.name, do(t, srv, "GET", "/v1/submissions/status/"+seedID, ""), tc.status, tc.mention)
		wantError(t, "kill "+tc.name, do(t, srv, "POST", "/v1/submissions/kill/"+seedID, ""), tc.status, tc.mention)
	}
}

func TestList(t *testing.T) {
	b := newFake()
	b.apps[seedID] = runningApp()
	srv := startServer(t, b, Options{})
	res := do(t, srv, "GET", "/v1/submissions?state=running,FINISHED&state=Error&limit=50", "")
	wantJSON(t, "list", res, 200, "SubmissionListResponse")
	wantReq := api.ListAppsRequest{States: []api.AppState{api.AppRunning, api.AppFinished, api.AppError}, Limit: 50}
	if b.listReq == nil || !reflect.DeepEqual(*b.listReq, wantReq) {
		t.Errorf("ListApps request = %+v, want %+v", b.listReq, wantReq)
	}
	subs, _ := res.JSON["submissions"].([]any)
	if res.JSON["success"] != true || len(subs) != 1 || subs[0].(map[string]any)["id"] != seedID {
		t.Errorf("list body = %s, want one submission %s", res.Body, seedID)
	}

	empty := newFake()
	res = do(t, startServer(t, empty, Options{}), "GET", "/v1/submissions", "")
	if subs, ok := res.JSON["submissions"].([]any); !ok || len(subs) != 0 {
		t.Errorf("empty list body = %s, want \"submissions\":[]", res.Body)
	}
	if empty.listReq == nil || !reflect.DeepEqual(*empty.listReq, api.ListAppsRequest{}) {
		t.Errorf("ListApps request without a query = %+v, want the zero request", empty.listReq)
	}
}

func TestList_BadQuery(t *testing.T) {
	b := newFake()
	srv := startServer(t, b, Options{})
	for _, q := range []struct{ query, mention string }{
		{"state=bogus", `"state"`},
		{"state=RUNNING,nope", `"state"`},
		{"limit=x", `"limit"`},
		{"limit=-1", `"limit"`},
		{"limit=1.5", `"limit"`},
	} {
		wantError(t, q.query, do(t, srv, "GET", "/v1/submissions?"+q.query, ""), 400, q.mention)
	}
	if calls := b.Calls(); len(calls) != 0 {
		t.Errorf("bad queries reached the master: %v", calls)
	}
}

func TestList_Standby(t *testing.T) {
	b := newFake()
	b.listErr = remoteErr(api.CodeStandby, "standby", "")
	res := do(t, startServer(t, b, Options{}), "GET", "/v1/submissions", "")
	wantError(t, "list", res, 503, "standby")
}

func TestWorkers(t *testing.T) {
	b := newFake()
	b.workers = []api.WorkerInfo{{ID: workerID, Host: "127.0.0.1", Port: 40000, Addr: "127.0.0.1:40000",
		State: api.WorkerAlive, Cores: 8, CoresUsed: 1, Memory: 4096, MemoryUsed: 256}}
	res := do(t, startServer(t, b, Options{}), "GET", "/v1/workers", "")
	wantJSON(t, "workers", res, 200, "WorkerListResponse")
	ws, _ := res.JSON["workers"].([]any)
	if res.JSON["success"] != true || len(ws) != 1 || ws[0].(map[string]any)["id"] != workerID {
		t.Errorf("workers body = %s, want one worker %s", res.Body, workerID)
	}

	b = newFake()
	b.workersErr = errPlain
	wantError(t, "workers failing", do(t, startServer(t, b, Options{}), "GET", "/v1/workers", ""), 500, "disk on fire")
}
