package api

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Spec defaults.
const (
	DefaultCores         = 1
	DefaultMemoryMB      = 1024
	DefaultRestartTries  = 3
	DefaultRestartDelay  = Duration(time.Second)
	MaxRestartDelay      = Duration(5 * time.Minute)
	maxNameLen           = 256
	maxArgsLen           = 256 << 10
	RestartNever         = "never"
	RestartOnFailure     = "on-failure"
	defaultRestartPolicy = RestartNever
)

// AppSpec is what a submission carries: what to run and what it needs. Its
// field names are the same in JSON and msgpack and match the REST protocol.
type AppSpec struct {
	// Name is a human-readable name; required.
	Name string `json:"name" msgpack:"name"`
	// EntryPoint is the application kind ("shell", "exec", a configured
	// template, or a kind registered by an embedding program); required.
	EntryPoint string `json:"entryPoint" msgpack:"entryPoint"`
	// Libs are paths the application needs, passed to it in ALOHA_LIBS.
	Libs []string `json:"libs,omitempty" msgpack:"libs,omitempty"`
	// Args is the argument string: the script for "shell", split into
	// words for "exec" when Argv is empty.
	Args string `json:"args,omitempty" msgpack:"args,omitempty"`
	// Argv, when set, is the exact argument vector for "exec" (no shell,
	// no splitting).
	Argv []string `json:"argv,omitempty" msgpack:"argv,omitempty"`
	// Cores and Memory (MB) are reserved on the worker for the application.
	Cores  int `json:"cores" msgpack:"cores"`
	Memory int `json:"memory" msgpack:"memory"`
	// Supervise relaunches the application on another worker when its
	// worker is lost.
	Supervise bool `json:"supervise" msgpack:"supervise"`
	// Env is added to the application's environment.
	Env map[string]string `json:"env,omitempty" msgpack:"env,omitempty"`
	// Labels are free-form tags for people and tools.
	Labels map[string]string `json:"labels,omitempty" msgpack:"labels,omitempty"`
	// MaxRuntime, when positive, kills the application after that long.
	MaxRuntime Duration `json:"maxRuntime,omitempty" msgpack:"maxRuntime,omitempty"`
	// Restart says what to do when the application fails.
	Restart RestartPolicy `json:"restart,omitzero" msgpack:"restart,omitempty"`
}

// RestartPolicy is what happens when an application exits with a failure:
// never restart, or restart up to MaxAttempts times with a delay that starts
// at Backoff and doubles each time, up to MaxRestartDelay.
type RestartPolicy struct {
	Policy      string   `json:"policy,omitempty" msgpack:"policy,omitempty"`
	MaxAttempts int      `json:"maxAttempts,omitempty" msgpack:"maxAttempts,omitempty"`
	Backoff     Duration `json:"backoff,omitempty" msgpack:"backoff,omitempty"`
}

// Delay returns how long to wait before restart number attempt (1-based).
func (p RestartPolicy) Delay(attempt int) time.Duration {
	d := p.Backoff
	if d <= 0 {
		d = DefaultRestartDelay
	}
	for i := 1; i < attempt && d < MaxRestartDelay; i++ {
		d *= 2
	}
	return min(d, MaxRestartDelay).Std()
}

// ShouldRestart says whether a failure after attempt restarts (1-based)
// earns another run.
func (p RestartPolicy) ShouldRestart(restarts int) bool {
	return p.Policy == RestartOnFailure && restarts < p.MaxAttempts
}

// WithDefaults returns the spec with zero cores, memory and restart fields
// replaced by their defaults.
func (s AppSpec) WithDefaults() AppSpec {
	if s.Cores == 0 {
		s.Cores = DefaultCores
	}
	if s.Memory == 0 {
		s.Memory = DefaultMemoryMB
	}
	if s.Restart.Policy == "" {
		s.Restart.Policy = defaultRestartPolicy
	}
	if s.Restart.Policy == RestartOnFailure {
		if s.Restart.MaxAttempts == 0 {
			s.Restart.MaxAttempts = DefaultRestartTries
		}
		if s.Restart.Backoff == 0 {
			s.Restart.Backoff = DefaultRestartDelay
		}
	}
	return s
}

// FieldError is a spec that breaks a rule; it names the field.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

// Validate checks the spec as the master accepts it (after WithDefaults).
// The error is a *FieldError naming the first field at fault.
func (s AppSpec) Validate() error {
	switch {
	case strings.TrimSpace(s.Name) == "":
		return fieldErr("name", "is required")
	case len(s.Name) > maxNameLen:
		return fieldErr("name", "is %d bytes long, at most %d allowed", len(s.Name), maxNameLen)
	case strings.IndexFunc(s.Name, unicode.IsControl) >= 0:
		return fieldErr("name", "must not contain control characters")
	case strings.TrimSpace(s.EntryPoint) == "":
		return fieldErr("entryPoint", "is required")
	case strings.IndexFunc(s.EntryPoint, unicode.IsSpace) >= 0:
		return fieldErr("entryPoint", "%q must not contain spaces", s.EntryPoint)
	case s.Cores < 1:
		return fieldErr("cores", "must be at least 1 (got %d)", s.Cores)
	case s.Memory < 1:
		return fieldErr("memory", "must be at least 1 MB (got %d)", s.Memory)
	case s.MaxRuntime < 0:
		return fieldErr("maxRuntime", "must not be negative (got %s)", s.MaxRuntime)
	case len(s.Args) > maxArgsLen:
		return fieldErr("args", "is %d bytes long, at most %d allowed", len(s.Args), maxArgsLen)
	case strings.ContainsRune(s.Args, 0):
		return fieldErr("args", "must not contain NUL bytes")
	}
	for i, a := range s.Argv {
		if strings.ContainsRune(a, 0) {
			return fieldErr(fmt.Sprintf("argv[%d]", i), "must not contain NUL bytes")
		}
	}
	for i, l := range s.Libs {
		if strings.ContainsRune(l, 0) {
			return fieldErr(fmt.Sprintf("libs[%d]", i), "must not contain NUL bytes")
		}
	}
	for k, v := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fieldErr("env", "variable name %q must be non-empty without '=' or NUL", k)
		}
		if strings.ContainsRune(v, 0) {
			return fieldErr("env", "value of %s must not contain NUL bytes", k)
		}
	}
	for k := range s.Labels {
		if strings.TrimSpace(k) == "" {
			return fieldErr("labels", "label names must not be empty")
		}
	}
	return s.Restart.validate()
}

func (p RestartPolicy) validate() error {
	switch p.Policy {
	case RestartNever:
		return nil
	case RestartOnFailure:
	default:
		return fieldErr("restart.policy", "%q is not %q or %q", p.Policy, RestartNever, RestartOnFailure)
	}
	if p.MaxAttempts < 1 {
		return fieldErr("restart.maxAttempts", "must be at least 1 with policy %s (got %d)", RestartOnFailure, p.MaxAttempts)
	}
	if p.Backoff < 0 {
		return fieldErr("restart.backoff", "must not be negative (got %s)", p.Backoff)
	}
	return nil
}
