package rest

import (
	"testing"

	"github.com/alohasched/aloha/api"
)

func TestRoutes_BadPaths(t *testing.T) {
	cases := []struct {
		method, path string
		status       int
		mention      string
	}{
		{"GET", "/", 400, "Missing protocol version"},
		{"GET", "/v1", 400, "/submissions"},
		{"GET", "/v1/", 400, "/submissions"},
		{"POST", "/v1/submissions", 400, "Missing an action"},
		{"POST", "/v1/submissions/", 400, "Missing an action"},
		{"GET", "/v1/submissions/bad", 400, `"bad"`},
		{"POST", "/v1/submissions/bad/x", 400, `"bad"`},
		{"GET", "/v1/submissions/status/a/b", 400, "/v1/submissions/status/a/b"},
		{"POST", "/v1/submissions/kill/a/b", 400, "/v1/submissions/kill/a/b"},
		{"POST", "/v1/submissions/create/extra", 400, "/create"},
		{"POST", "/v1/submissions/kill", 400, "Submission ID is missing"},
		{"POST", "/v1/submissions/kill/", 400, "Submission ID is missing"},
		{"GET", "/v1/submissions/status", 400, "Submission ID is missing"},
		{"GET", "/v1/submissions/status/", 400, "Submission ID is missing"},
		{"GET", "/v1/other", 400, "/v1/other"},
		{"GET", "/bad-version", 400, "/bad-version"},
		{"GET", "/favicon.ico", 400, "/favicon.ico"},
		{"GET", "/v2", StatusUnknownProtocolVersion, "'v2'"},
		{"GET", "/v2/submissions/status/" + seedID, StatusUnknownProtocolVersion, "'v2'"},
		{"POST", "/v0/submissions/create", StatusUnknownProtocolVersion, "'v0'"},
		{"POST", "/v10/submissions/create", StatusUnknownProtocolVersion, "'v10'"},
	}
	b := newFake()
	srv := startServer(t, b, Options{})
	for _, tc := range cases {
		what := tc.method + " " + tc.path
		res := do(t, srv, tc.method, tc.path, seedBody)
		wantError(t, what, res, tc.status, tc.mention)
		if tc.status == StatusUnknownProtocolVersion && res.JSON["highestProtocolVersion"] != "v1" {
			t.Errorf("%s: highestProtocolVersion = %v, want v1", what, res.JSON["highestProtocolVersion"])
		}
	}
	if calls := b.Calls(); len(calls) != 0 {
		t.Errorf("bad paths reached the master: %v", calls)
	}
}

func TestRoutes_MethodNotAllowed(t *testing.T) {
	cases := []struct{ method, path, allow string }{
		{"GET", "/v1/submissions/create", "POST"},
		{"PUT", "/v1/submissions/create", "POST"},
		{"GET", "/v1/submissions/kill/" + seedID, "POST"},
		{"GET", "/v1/submissions/kill", "POST"},
		{"POST", "/v1/submissions/status/" + seedID, "GET, HEAD"},
		{"DELETE", "/v1/submissions/status/" + seedID, "GET, HEAD"},
		{"POST", "/v1/workers", "GET, HEAD"},
		{"POST", "/json", "GET, HEAD"},
		{"POST", "/readyz", "GET, HEAD"},
	}
	b := newFake()
	srv := startServer(t, b, Options{})
	for _, tc := range cases {
		what := tc.method + " " + tc.path
		res := do(t, srv, tc.method, tc.path, "")
		wantError(t, what, res, 405, tc.method)
		if got := res.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s: Allow = %q, want %q", what, got, tc.allow)
		}
	}
	if calls := b.Calls(); len(calls) != 0 {
		t.Errorf("wrong methods reached the master: %v", calls)
	}
}

// Trailing and doubled slashes and query strings do not change the route.
func TestRoutes_SlashesAndQueries(t *testing.T) {
	b := newFake()
	b.apps[seedID] = api.AppInfo{ID: seedID, State: api.AppRunning}
	srv := startServer(t, b, Options{})
	cases := []struct{ method, path, action string }{
		{"POST", "/v1/submissions/create/", "CreateSubmissionResponse"},
		{"POST", "/v1/submissions/create?verbose=1", "CreateSubmissionResponse"},
		{"GET", "/v1/submissions/status/" + seedID + "/", "SubmissionStatusResponse"},
		{"GET", "//v1//submissions//status//" + seedID + "?x=y", "SubmissionStatusResponse"},
		{"POST", "/v1/submissions/kill/" + seedID + "/?now", "KillSubmissionResponse"},
		{"GET", "/v1/submissions/", "SubmissionListResponse"},
		{"GET", "/v1/workers/", "WorkerListResponse"},
	}
	for _, tc := range cases {
		res := do(t, srv, tc.method, tc.path, seedBody)
		wantJSON(t, tc.method+" "+tc.path, res, 200, tc.action)
	}
	for _, path := range []string{"/json", "/json/", "/json?pretty"} {
		if res := do(t, srv, "GET", path, ""); res.Status != 200 || res.JSON["status"] != "ALIVE" {
			t.Errorf("GET %s = %d %s, want 200 with the master state", path, res.Status, res.Body)
		}
	}
}

func TestRoutes_Head(t *testing.T) {
	b := newFake()
	b.apps[seedID] = api.AppInfo{ID: seedID, State: api.AppRunning}
	srv := startServer(t, b, Options{})
	for _, path := range []string{"/v1/submissions/status/" + seedID, "/v1/submissions", "/v1/workers", "/json", "/readyz"} {
		if res := do(t, srv, "HEAD", path, ""); res.Status != 200 || res.Body != "" {
			t.Errorf("HEAD %s = %d with %d bytes, want 200 without a body", path, res.Status, len(res.Body))
		}
	}
}
