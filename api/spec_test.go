package api

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func validSpec() AppSpec {
	return AppSpec{Name: "etl", EntryPoint: "shell", Args: "echo hi"}.WithDefaults()
}

func TestWithDefaults(t *testing.T) {
	s := AppSpec{Name: "a", EntryPoint: "shell"}.WithDefaults()
	if s.Cores != 1 || s.Memory != 1024 || s.Restart.Policy != RestartNever {
		t.Fatalf("WithDefaults() = cores %d memory %d restart %q, want 1, 1024, never", s.Cores, s.Memory, s.Restart.Policy)
	}
	s = AppSpec{Name: "a", EntryPoint: "shell", Cores: 4, Memory: 256, Restart: RestartPolicy{Policy: RestartOnFailure}}.WithDefaults()
	if s.Cores != 4 || s.Memory != 256 || s.Restart.MaxAttempts != DefaultRestartTries || s.Restart.Backoff != DefaultRestartDelay {
		t.Fatalf("WithDefaults() changed set fields or missed restart defaults: %+v", s)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		field  string
		mutate func(*AppSpec)
	}{
		{"name", func(s *AppSpec) { s.Name = "" }},
		{"name", func(s *AppSpec) { s.Name = "   " }},
		{"name", func(s *AppSpec) { s.Name = strings.Repeat("n", 300) }},
		{"name", func(s *AppSpec) { s.Name = "a\nb" }},
		{"entryPoint", func(s *AppSpec) { s.EntryPoint = "" }},
		{"entryPoint", func(s *AppSpec) { s.EntryPoint = "two words" }},
		{"cores", func(s *AppSpec) { s.Cores = 0 }},
		{"cores", func(s *AppSpec) { s.Cores = -3 }},
		{"memory", func(s *AppSpec) { s.Memory = 0 }},
		{"maxRuntime", func(s *AppSpec) { s.MaxRuntime = -1 }},
		{"args", func(s *AppSpec) { s.Args = "a\x00b" }},
		{"argv[1]", func(s *AppSpec) { s.Argv = []string{"ok", "a\x00"} }},
		{"libs[0]", func(s *AppSpec) { s.Libs = []string{"\x00"} }},
		{"env", func(s *AppSpec) { s.Env = map[string]string{"A=B": "x"} }},
		{"env", func(s *AppSpec) { s.Env = map[string]string{"": "x"} }},
		{"labels", func(s *AppSpec) { s.Labels = map[string]string{" ": "x"} }},
		{"restart.policy", func(s *AppSpec) { s.Restart.Policy = "always" }},
		{"restart.maxAttempts", func(s *AppSpec) { s.Restart = RestartPolicy{Policy: RestartOnFailure} }},
		{"restart.backoff", func(s *AppSpec) { s.Restart = RestartPolicy{Policy: RestartOnFailure, MaxAttempts: 1, Backoff: -1} }},
	}
	for _, tc := range cases {
		s := validSpec()
		tc.mutate(&s)
		err := s.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("Validate(%+v) = %v, want an error naming %q", s, err, tc.field)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.field+": ") {
			t.Errorf("error %q does not start with the field name", err)
		}
	}
	if err := validSpec().Validate(); err != nil {
		t.Fatalf("Validate(valid spec) = %v", err)
	}
}

func TestRestartDelayDoublesUpToTheCap(t *testing.T) {
	p := RestartPolicy{Policy: RestartOnFailure, MaxAttempts: 20, Backoff: Duration(time.Second)}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for i, w := range want {
		if got := p.Delay(i + 1); got != w {
			t.Errorf("Delay(%d) = %s, want %s", i+1, got, w)
		}
	}
	if got := p.Delay(30); got != MaxRestartDelay.Std() {
		t.Errorf("Delay(30) = %s, want the cap %s", got, MaxRestartDelay)
	}
	if !p.ShouldRestart(19) || p.ShouldRestart(20) {
		t.Error("ShouldRestart must allow exactly MaxAttempts restarts")
	}
	if (RestartPolicy{Policy: RestartNever}).ShouldRestart(0) {
		t.Error("policy never must not restart")
	}
}

func TestDurationJSON(t *testing.T) {
	var s struct {
		D Duration `json:"d"`
	}
	for in, want := range map[string]time.Duration{
		`{"d":"1h30m"}`: 90 * time.Minute,
		`{"d":90}`:      90 * time.Second,
		`{"d":0.5}`:     500 * time.Millisecond,
		`{"d":null}`:    0,
	} {
		if err := json.Unmarshal([]byte(in), &s); err != nil || s.D.Std() != want {
			t.Errorf("Unmarshal(%s) = %s, %v; want %s", in, s.D, err, want)
		}
	}
	for _, bad := range []string{`{"d":"soon"}`, `{"d":true}`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("Unmarshal(%s) succeeded, want an error", bad)
		}
	}
	out, _ := json.Marshal(struct {
		D Duration `json:"d"`
	}{Duration(90 * time.Second)})
	if string(out) != `{"d":"1m30s"}` {
		t.Errorf("Marshal = %s, want {\"d\":\"1m30s\"}", out)
	}
}
