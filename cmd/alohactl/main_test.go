package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
)

func TestParseMemoryMB(t *testing.T) {
	for in, want := range map[string]int{"512": 512, "512m": 512, "2g": 2048, "2GB": 2048, "1gib": 1024, "1t": 1 << 20, "2048k": 2} {
		if got, err := parseMemoryMB(in); err != nil || got != want {
			t.Errorf("parseMemoryMB(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2x", "g", "0", "100k", "-1", "99999999999999g"} {
		if got, err := parseMemoryMB(in); err == nil {
			t.Errorf("parseMemoryMB(%q) = %d, want an error", in, got)
		}
	}
}

func TestSubmitSpec(t *testing.T) {
	s := submitCmd{Kind: "shell", Cores: 2, Memory: "1g", Env: []string{"A=b=c"}, MaxAttempts: 2, Command: []string{"FOO=1", "/usr/bin/python3", "job.py"}}
	spec, err := s.spec()
	if err != nil || spec.Name != "python3" || spec.Args != "FOO=1 /usr/bin/python3 job.py" || spec.Argv != nil ||
		spec.Memory != 1024 || spec.Env["A"] != "b=c" || spec.Restart.Policy != api.RestartOnFailure {
		t.Errorf("spec() = %+v, %v", spec, err)
	}
	s = submitCmd{Kind: "exec", Cores: 1, Command: []string{"/bin/echo", "a b"}}
	if spec, err := s.spec(); err != nil || len(spec.Argv) != 2 || spec.Args != "" || spec.Name != "echo" {
		t.Errorf("exec spec() = %+v, %v", spec, err)
	}
	for _, bad := range []submitCmd{
		{Kind: "shell", Cores: 1},
		{Kind: "shell", Cores: 0, Command: []string{"true"}},
		{Kind: "shell", Cores: 1, Restart: "always", Command: []string{"true"}},
		{Kind: "shell", Cores: 1, Restart: "never", MaxAttempts: 2, Command: []string{"true"}},
		{Kind: "shell", Cores: 1, Label: []string{"=x"}, Command: []string{"true"}},
	} {
		var ue *usageError
		if _, err := bad.spec(); !errors.As(err, &ue) {
			t.Errorf("spec() of %+v = %v, want a usage error", bad, err)
		}
	}
}

func TestOutcome(t *testing.T) {
	code := func(n int) *int { return &n }
	for _, tc := range []struct {
		info api.AppInfo
		want int
	}{
		{api.AppInfo{State: api.AppFinished, ExitCode: code(0)}, exitOK},
		{api.AppInfo{State: api.AppFailed, ExitCode: code(3)}, 3},
		{api.AppInfo{State: api.AppFailed}, exitFailed},
		{api.AppInfo{State: api.AppFailed, ExitCode: code(300)}, exitFailed},
		{api.AppInfo{State: api.AppKilled}, exitAppKilled},
		{api.AppInfo{State: api.AppError}, exitAppError},
	} {
		got := exitOK
		var ee *exitError
		if err := outcome(&tc.info); errors.As(err, &ee) {
			got = ee.code
		}
		if got != tc.want {
			t.Errorf("outcome(%s, %v) = exit %d, want %d", tc.info.State, tc.info.ExitCode, got, tc.want)
		}
	}
}

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\n", 5, "a\nb\n"},
		{"", 1, ""},
	} {
		if got := string(lastLines([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// A restart on the same worker appends to the same file: what was copied
// before is skipped.
func TestSkipWriter(t *testing.T) {
	var out bytes.Buffer
	s := &skipWriter{w: &out, skip: 4}
	for _, p := range []string{"ab", "cdef", "gh"} {
		if n, err := s.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if out.String() != "efgh" || s.seen != 8 {
		t.Errorf("skipWriter wrote %q and saw %d, want efgh and 8", out.String(), s.seen)
	}
}

func TestJSONLines(t *testing.T) {
	var out bytes.Buffer
	j := &jsonLines{out: &lineWriter{w: &out}, appID: "app-1", stream: "stdout"}
	j.Write([]byte("one\ntw"))
	j.Write([]byte("o <&>\nthree"))
	j.Close()
	want := `{"type":"Output","appId":"app-1","stream":"stdout","line":"one"}
{"type":"Output","appId":"app-1","stream":"stdout","line":"two <&>"}
{"type":"Output","appId":"app-1","stream":"stdout","line":"three"}
`
	if out.String() != want {
		t.Errorf("jsonLines wrote\n%s\nwant\n%s", out.String(), want)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 59 * time.Second: "59s", 65 * time.Second: "1m05s", 2*time.Hour + 3*time.Minute: "2h03m", 50 * time.Hour: "2d02h",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%s) = %q, want %q", d, got, want)
		}
	}
}

// Colouring must not break the alignment of tables.
func TestPaintKeepsColumnsAligned(t *testing.T) {
	var out bytes.Buffer
	tw := newTable(&out)
	row(tw, "ID", header(true, "STATE"), "X")
	row(tw, "a", paint(true, "RUNNING"), "x")
	row(tw, "b", paint(true, "no-such-state"), "x")
	tw.Flush()
	var cols []int
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		cols = append(cols, strings.LastIndex(line, " "))
	}
	if cols[0] != cols[1] || cols[1] != cols[2] {
		t.Errorf("columns misaligned:\n%s", out.String())
	}
}

func TestFirstSentence(t *testing.T) {
	for in, want := range map[string]string{
		"Memory, e.g. 2g. More here.": "Memory, e.g. 2g",
		"One sentence.":               "One sentence",
		"aloha://h:p,... (default x)": "aloha://h:p,... (default x)",
	} {
		if got := firstSentence(in); got != want {
			t.Errorf("firstSentence(%q) = %q, want %q", in, got, want)
		}
	}
}
