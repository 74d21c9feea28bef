package rest

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
)

func TestMasterJSON(t *testing.T) {
	now := time.Date(2019, 3, 11, 22, 20, 0, 0, time.UTC)
	hb := time.Date(2019, 3, 11, 22, 19, 58, 0, time.UTC)
	b := newFake()
	b.info = api.MasterInfo{URL: "aloha://127.0.0.1:7077", State: api.MasterAlive, AliveWorkers: 1,
		Cores: 8, CoresUsed: 1, Memory: 4096, MemoryUsed: 256, ActiveApps: 1, CompletedApps: 1}
	b.workers = []api.WorkerInfo{
		{ID: workerID, Host: "127.0.0.1", Port: 40000, State: api.WorkerAlive, Cores: 8, CoresUsed: 1,
			Memory: 4096, MemoryUsed: 256, LastHeartbeat: hb},
	}
	running := runningApp()
	done := api.AppInfo{
		ID: "app-20190311221600-0000", Spec: api.AppSpec{Name: "old", Cores: 2, Memory: 512},
		State: api.AppFinished, WorkerID: workerID,
		SubmittedAt: time.Date(2019, 3, 11, 22, 16, 0, 0, time.UTC),
		StartedAt:   time.Date(2019, 3, 11, 22, 16, 1, 0, time.UTC),
		EndedAt:     time.Date(2019, 3, 11, 22, 16, 11, 500e6, time.UTC),
	}
	b.apps[running.ID], b.apps[done.ID] = running, done

	rec := httptest.NewRecorder()
	newHandler(b, Options{}, func() time.Time { return now }).ServeHTTP(rec, httptest.NewRequest("GET", "/json", nil))
	res := result{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
	if err := json.Unmarshal(rec.Body.Bytes(), &res.JSON); err != nil {
		t.Fatalf("GET /json: body is not a JSON object: %v\n%s", err, res.Body)
	}
	if res.Status != 200 || res.Header.Get("Content-Type") != contentTypeJSON {
		t.Fatalf("GET /json = %d %q, want 200 JSON", res.Status, res.Header.Get("Content-Type"))
	}
	wantBody(t, "/json", res, map[string]any{
		"url": "aloha://127.0.0.1:7077",
		"workers": []any{map[string]any{
			"id": workerID, "host": "127.0.0.1", "port": 40000.0,
			"cores": 8.0, "coresused": 1.0, "coresfree": 7.0,
			"memory": 4096.0, "memoryused": 256.0, "memoryfree": 3840.0,
			"state": "ALIVE", "lastheartbeat": float64(hb.UnixMilli()),
		}},
		"aliveworkers": 1.0, "cores": 8.0, "coresused": 1.0, "memory": 4096.0, "memoryused": 256.0,
		"activeapps": []any{map[string]any{
			"id": seedID, "starttime": float64(running.SubmittedAt.UnixMilli()), "name": "test",
			"cores": 1.0, "memory": 256.0, "submitdate": "Mon Mar 11 22:17:31 UTC 2019",
			"state": "RUNNING", "duration": float64(now.Sub(running.StartedAt).Milliseconds()), "worker": workerID,
		}},
		"completedapps": []any{map[string]any{
			"id": done.ID, "starttime": float64(done.SubmittedAt.UnixMilli()), "name": "old",
			"cores": 2.0, "memory": 512.0, "submitdate": "Mon Mar 11 22:16:00 UTC 2019",
			"state": "FINISHED", "duration": 10500.0, "worker": workerID,
		}},
		"status": "ALIVE",
	})
}

// A standby shows its status with empty lists, as Spark's standby does.
func TestMasterJSON_Standby(t *testing.T) {
	b := newFake()
	b.info = api.MasterInfo{URL: "aloha://10.0.0.3:7077", State: api.MasterStandby, Leader: "aloha://10.0.0.2:7077"}
	standby := remoteErr(api.CodeStandby, "standby", "aloha://10.0.0.2:7077")
	b.workersErr, b.listErr = standby, standby
	res := do(t, startServer(t, b, Options{}), "GET", "/json", "")
	wantBody(t, "/json on a standby", res, map[string]any{
		"url": "aloha://10.0.0.3:7077", "workers": []any{}, "aliveworkers": 0.0,
		"cores": 0.0, "coresused": 0.0, "memory": 0.0, "memoryused": 0.0,
		"activeapps": []any{}, "completedapps": []any{}, "status": "STANDBY",
	})
}

func TestMasterJSON_InternalError(t *testing.T) {
	b := newFake()
	b.listErr = errPlain
	wantError(t, "/json", do(t, startServer(t, b, Options{}), "GET", "/json", ""), 500, "disk on fire")
}

func TestReadyz(t *testing.T) {
	cases := []struct {
		name   string
		info   api.MasterInfo
		err    error
		status int
		body   []string
		level  slog.Level // of the log line, for a 503
	}{
		{"alive", api.MasterInfo{State: api.MasterAlive}, nil, 200, []string{"ok"}, 0},
		{"standby with leader", api.MasterInfo{State: api.MasterStandby, Leader: "aloha://10.0.0.2:7077"}, nil, 503,
			[]string{"STANDBY", "aloha://10.0.0.2:7077"}, slog.LevelDebug},
		{"standby", api.MasterInfo{State: api.MasterStandby}, nil, 503, []string{"STANDBY"}, slog.LevelDebug},
		{"recovering", api.MasterInfo{State: api.MasterRecovering}, nil, 503, []string{"RECOVERING"}, slog.LevelDebug},
		{"failing", api.MasterInfo{}, errPlain, 503, []string{"disk on fire"}, slog.LevelError},
	}
	for _, tc := range cases {
		b := newFake()
		b.info, b.infoErr = tc.info, tc.err
		sink := &logSink{}
		res := do(t, startServer(t, b, Options{Logger: slog.New(sink)}), "GET", "/readyz", "")
		recs := sink.Records()
		switch {
		case tc.status == 200 && len(recs) != 0:
			t.Errorf("%s: %d log records for a 200, want none", tc.name, len(recs))
		case tc.status != 200 && (len(recs) != 1 || recs[0].Level != tc.level):
			t.Errorf("%s: log records %v, want one at level %v", tc.name, recs, tc.level)
		}
		if res.Status != tc.status {
			t.Errorf("%s: /readyz = %d %q, want %d", tc.name, res.Status, res.Body, tc.status)
		}
		for _, p := range tc.body {
			if !strings.Contains(res.Body, p) {
				t.Errorf("%s: /readyz body %q does not mention %q", tc.name, res.Body, p)
			}
		}
	}
}
