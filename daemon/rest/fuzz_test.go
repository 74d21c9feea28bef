package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alohasched/aloha/api"
)

// fuzzName is the application name for which the fuzz backend fails with an
// internal error: the only way a create request may earn a 5xx.
const fuzzName = "internal-error"

// checkingBackend is the fuzz target's master: it records whether the last
// spec it was given passes Validate, and fails internally for fuzzName.
type checkingBackend struct {
	fakeBackend
	got      *api.AppSpec
	invalid  error
	internal bool
}

func (c *checkingBackend) Submit(_ context.Context, spec api.AppSpec) (string, error) {
	c.got = &spec
	c.invalid = spec.Validate()
	if spec.Name == fuzzName {
		c.internal = true
		return "", remoteErr("internal", "store write failed", "")
	}
	return seedID, nil
}

func FuzzCreateRequest(f *testing.F) {
	for _, seed := range []string{
		seedBody,
		`{"action":"CreateSubmissionRequest","name":"n","entryPoint":"exec","argv":["a"],"env":{"A":"1"},` +
			`"labels":{"x":"y"},"maxRuntime":"1m","restart":{"policy":"on-failure","maxAttempts":2,"backoff":1.5}}`,
		`{"action":"CreateSubmissionRequest","name":"` + fuzzName + `","entryPoint":"shell"}`,
		`{"action":"CreateSubmissionRequest","name":"n","entryPoint":"shell","cores":0}`,
		`{"action":"CreateSubmissionRequest","name":"n","entryPoint":"shell","cores":"two","libs":"x"}`,
		`{"action":"CreateSubmissionRequest","name":"n","entryPoint":"shell","unknown":{"a":[1,2]}}`,
		`{"action":"KillSubmissionRequest"}`,
		`{"action":`,
		`[]`, `"x"`, `3`, `null`, ``, `{}`,
		`{"action":"CreateSubmissionRequest","name":"n","entryPoint":"shell","maxRuntime":1e308}`,
		`{"action":"CreateSubmissionRequest","name":"n\u0000","entryPoint":"shell","args":"\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b := &checkingBackend{}
		h := NewHandler(b, Options{})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/submissions/create", strings.NewReader(string(body))))

		if ct := rec.Header().Get("Content-Type"); ct != contentTypeJSON {
			t.Fatalf("Content-Type = %q, want %q", ct, contentTypeJSON)
		}
		var resp map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("response is not a JSON object: %v\n%s", err, rec.Body.Bytes())
		}
		if b.got != nil && b.invalid != nil {
			t.Fatalf("the master was given a spec that fails Validate (%v): %+v", b.invalid, *b.got)
		}
		switch code := rec.Code; {
		case code == http.StatusOK:
			if b.got == nil || resp["action"] != actionCreateResponse || resp["success"] != true {
				t.Fatalf("200 without a submitted spec or a CreateSubmissionResponse: %s", rec.Body.Bytes())
			}
		case code == http.StatusBadRequest:
			if b.got != nil || resp["action"] != actionError || resp["message"] == "" {
				t.Fatalf("400 after a submission or without an error message: %s", rec.Body.Bytes())
			}
		case code >= 500:
			if !b.internal {
				t.Fatalf("status %d without an internal error from the master: %s", code, rec.Body.Bytes())
			}
		default:
			t.Fatalf("status %d: %s", code, rec.Body.Bytes())
		}
	})
}
