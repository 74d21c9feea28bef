package api

import (
	"bytes"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// The codes are part of the protocol: this table may grow, never change.
func TestMessageCodesAreStable(t *testing.T) {
	want := map[uint16]string{
		100: "api.RegisterWorker", 101: "api.WorkerRegistered", 102: "api.Heartbeat",
		103: "api.AppStateChanged", 104: "api.WorkerSchedulerState",
		110: "api.ReconnectWorker", 111: "api.MasterChanged", 112: "api.LaunchApp", 113: "api.KillApp",
		120: "api.SubmitApp", 121: "api.SubmitAppResponse", 122: "api.KillAppRequest", 123: "api.KillAppResponse",
		124: "api.AppStatusRequest", 125: "api.AppInfo", 126: "api.ListAppsRequest", 127: "api.AppList",
		128: "api.ListWorkersRequest", 129: "api.WorkerList", 130: "api.MasterStatusRequest", 131: "api.MasterInfo",
		132: "api.EventsRequest", 133: "api.EventBatch", 140: "api.ReadLogRequest", 141: "api.LogChunk",
	}
	got := NewRegistry().Codes()
	for code, name := range want {
		if got[code] != name {
			t.Errorf("code %d = %q, want %q", code, got[code], name)
		}
	}
}

// Field names on the wire are stable: a spec encodes with the names of the
// REST protocol.
func TestSpecFieldNames(t *testing.T) {
	s := AppSpec{Name: "n", EntryPoint: "shell", Libs: []string{"/l"}, Args: "a", Argv: []string{"x"}, Cores: 2, Memory: 3,
		Supervise: true, Env: map[string]string{"K": "V"}, Labels: map[string]string{"team": "x"},
		MaxRuntime: Duration(time.Minute), Restart: RestartPolicy{Policy: RestartOnFailure, MaxAttempts: 2, Backoff: Duration(time.Second)}}
	b, err := msgpack.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := msgpack.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"args", "argv", "cores", "entryPoint", "env", "labels", "libs", "maxRuntime", "memory", "name", "restart", "supervise"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("spec msgpack keys = %v, want %v", keys, want)
	}
	var back AppSpec
	if err := msgpack.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip = %+v, %v; want %+v", back, err, s)
	}
}

func TestEveryMessageRoundTrips(t *testing.T) {
	code := 3
	samples := []any{
		&RegisterWorker{ID: "w", Host: "h", Port: 1, Cores: 2, Memory: 3, Apps: []RunningApp{{AppID: "a", State: AppRunning}}},
		&AppStateChanged{WorkerID: "w", AppID: "a", State: AppFailed, ExitCode: &code},
		&LaunchApp{Epoch: 7, AppID: "a", Spec: AppSpec{Name: "n", EntryPoint: "shell"}},
		&EventBatch{Events: []Event{{Seq: 1, Type: EventAppRelaunched, AppID: "a", NewAppID: "b"}}, Epoch: 2},
		&LogChunk{Data: []byte("out\n"), Offset: 10, Done: true},
	}
	for _, v := range samples {
		var buf bytes.Buffer
		if err := msgpack.NewEncoder(&buf).Encode(v); err != nil {
			t.Fatal(err)
		}
		back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := msgpack.NewDecoder(&buf).Decode(back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, v) {
			t.Errorf("round trip of %T = %+v, want %+v", v, back, v)
		}
	}
}
