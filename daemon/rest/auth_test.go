package rest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/alohasched/aloha/api"
)

const secret = "s3cret-token"

// DESIGN §9: with a secret, unauthenticated REST callers get nothing.
func TestAuth(t *testing.T) {
	b := newFake()
	b.apps[seedID] = runningApp()
	var metricsHits atomic.Int32
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		metricsHits.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("aloha_apps 1\n"))
	})
	srv := startServer(t, b, Options{Secret: secret, Extra: map[string]http.Handler{"/metrics": metrics}})

	requests := []struct{ method, path string }{
		{"POST", "/v1/submissions/create"},
		{"GET", "/v1/submissions/status/" + seedID},
		{"POST", "/v1/submissions/kill/" + seedID},
		{"GET", "/v1/submissions"},
		{"GET", "/v1/workers"},
		{"GET", "/json"},
		{"GET", "/readyz"},
		{"GET", "/metrics"},
		{"GET", "/"},
		{"GET", "/v2/submissions/create"},
	}
	refused := [][]string{
		nil,
		{"Authorization: Bearer wrong"},
		{"Authorization: Bearer " + secret + "x"},
		{"Authorization: Bearer " + secret[:len(secret)-1]},
		{"Authorization: Basic " + secret},
		{"Authorization: " + secret},
		{"Authorization: Bearer"},
	}
	for _, rq := range requests {
		for _, hdr := range refused {
			what := rq.method + " " + rq.path + " with " + join(hdr)
			res := do(t, srv, rq.method, rq.path, seedBody, hdr...)
			wantError(t, what, res, 401, "Authorization")
			if len(res.JSON) != 3 {
				t.Errorf("%s: 401 body has fields beyond action, message and version: %s", what, res.Body)
			}
			if res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: 401 without WWW-Authenticate", what)
			}
		}
	}
	if calls := b.Calls(); len(calls) != 0 || metricsHits.Load() != 0 {
		t.Fatalf("unauthenticated requests got through: backend calls %v, /metrics hits %d", calls, metricsHits.Load())
	}

	for _, rq := range requests {
		for _, auth := range []string{"Bearer " + secret, "bearer " + secret} {
			res := do(t, srv, rq.method, rq.path, seedBody, "Authorization: "+auth)
			if res.Status == 401 {
				t.Errorf("%s %s with the right token: 401 %s", rq.method, rq.path, res.Body)
			}
		}
	}
	if metricsHits.Load() != 2 {
		t.Errorf("/metrics served %d times with the right token, want 2", metricsHits.Load())
	}
	res := do(t, srv, "GET", "/readyz", "", "Authorization: Bearer "+secret)
	if res.Status != 200 || res.Body != "ok\n" {
		t.Errorf("/readyz with the right token = %d %q, want 200 ok", res.Status, res.Body)
	}
}

func join(hdr []string) string {
	if len(hdr) == 0 {
		return "no header"
	}
	return hdr[0]
}

// Extra handlers are mounted at their exact path only and served as is.
func TestExtra(t *testing.T) {
	extra := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	srv := startServer(t, newFake(), Options{Extra: map[string]http.Handler{"/metrics": extra}})
	if res := do(t, srv, "GET", "/metrics", ""); res.Status != http.StatusTeapot {
		t.Errorf("GET /metrics = %d, want the extra handler's %d", res.Status, http.StatusTeapot)
	}
	wantError(t, "GET /metrics/x", do(t, srv, "GET", "/metrics/x", ""), 400, "/metrics/x")
}

// Without a secret, no header is needed and one is ignored.
func TestAuth_NoSecret(t *testing.T) {
	b := newFake()
	b.apps[seedID] = api.AppInfo{ID: seedID, State: api.AppRunning}
	srv := startServer(t, b, Options{})
	for _, hdr := range [][]string{nil, {"Authorization: Bearer anything"}} {
		wantJSON(t, "status", do(t, srv, "GET", "/v1/submissions/status/"+seedID, "", hdr...), 200, "SubmissionStatusResponse")
	}
}

// RequireBearer protects the daemons' other HTTP servers the same way.
func TestRequireBearer(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "inner") })
	for _, tc := range []struct {
		secret, header string
		want           int
	}{
		{secret, "", http.StatusUnauthorized},
		{secret, "Bearer wrong", http.StatusUnauthorized},
		{secret, "Bearer " + secret, http.StatusOK},
		{"", "", http.StatusOK},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/metrics", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		RequireBearer(tc.secret, inner).ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("secret %q, Authorization %q: status %d, want %d", tc.secret, tc.header, rec.Code, tc.want)
		}
		if body := rec.Body.String(); (tc.want == http.StatusOK) != (body == "inner") {
			t.Errorf("secret %q, Authorization %q: body %q", tc.secret, tc.header, body)
		}
		if tc.want == http.StatusUnauthorized && !strings.Contains(rec.Body.String(), `"ErrorResponse"`) {
			t.Errorf("401 body = %s", rec.Body.String())
		}
	}
}
