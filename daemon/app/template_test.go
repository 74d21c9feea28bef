package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alohasched/aloha/api"
)

func TestTemplateExpand(t *testing.T) {
	l := &Launch{
		AppID: "app-1",
		Dir:   "/work/app 1",
		Spec: api.AppSpec{
			Name: "my job", Args: `--in 'a b' c`, Libs: []string{"x.jar", "y.jar"}, Cores: 4, Memory: 2048,
		},
	}
	tests := []struct {
		tmpl string
		spec func(*api.AppSpec)
		want []string
	}{
		{
			tmpl: "spark-submit --name {name} --total-executor-cores {cores} {args}",
			want: []string{"spark-submit", "--name", "my job", "--total-executor-cores", "4", "--in", "a b", "c"},
		},
		{
			tmpl: `run "--conf" "a b" --mem={memory}m --jars {libs} --dir={appDir} --id {appId}`,
			want: []string{"run", "--conf", "a b", "--mem=2048m", "--jars", "x.jar,y.jar", "--dir=/work/app 1", "--id", "app-1"},
		},
		{
			// {args} inside a word is the raw string.
			tmpl: `run --args={args} "[{args}]"`,
			want: []string{"run", `--args=--in 'a b' c`, `[--in 'a b' c]`},
		},
		{
			// Argv wins over Args for a whole-word {args}.
			tmpl: "run {args} end",
			spec: func(s *api.AppSpec) { s.Argv = []string{"x y", "$z"} },
			want: []string{"run", "x y", "$z", "end"},
		},
		{
			// Empty args: a whole-word {args} vanishes; libs join to "".
			tmpl: "run {args} {libs} end",
			spec: func(s *api.AppSpec) { s.Args, s.Libs = "", nil },
			want: []string{"run", "", "end"},
		},
		{
			// Not placeholders: escaped, non-identifier, empty, unclosed.
			tmpl: `run {{name} {a,b} {} x{ }`,
			want: []string{"run", "{name}", "{a,b}", "{}", "x{", "}"},
		},
		{
			tmpl: "{name}{cores}x{memory}",
			want: []string{"my job4x2048"},
		},
	}
	for _, tt := range tests {
		tp, err := parseTemplate("t", tt.tmpl)
		if err != nil {
			t.Errorf("parseTemplate(%q) = %v", tt.tmpl, err)
			continue
		}
		l2 := *l
		if tt.spec != nil {
			tt.spec(&l2.Spec)
		}
		got, err := tp.expand(&l2)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("template %q expands to %q, %v; want %q", tt.tmpl, got, err, tt.want)
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	tests := []struct{ tmpl, want string }{
		{"run {foo}", "unknown placeholder {foo}"},
		{"run --x={Name}", "unknown placeholder {Name}"},
		{`run 'open`, "unterminated single quote"},
		{`run "open`, "unterminated double quote"},
		{"", "no command"},
		{"   ", "no command"},
		{"{args} x", "first word"},
	}
	for _, tt := range tests {
		err := NewRegistry().AddTemplate("spark", tt.tmpl)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "template spark") {
			t.Errorf("AddTemplate(spark, %q) = %v; want an error naming the template and %q", tt.tmpl, err, tt.want)
		}
	}
}

func TestTemplateArgsError(t *testing.T) {
	tp, err := parseTemplate("t", "run {args}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tp.expand(&Launch{Spec: api.AppSpec{Args: `"open`}})
	if err == nil || !strings.Contains(err.Error(), "args") {
		t.Errorf("expand with unbalanced args = %v; want an args error", err)
	}
}

// Values go into argv words as they are: no shell ever sees them.
func TestTemplatePassesValuesLiterally(t *testing.T) {
	reg := NewRegistry()
	if err := reg.AddTemplate("echoer", `printf '%s\n' {name} {args} --raw={args}`); err != nil {
		t.Fatal(err)
	}
	l := newLaunch(t, "echoer", "")
	victim := filepath.Join(l.Dir, "victim")
	if err := os.WriteFile(victim, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pwned := filepath.Join(l.Dir, "pwned")
	l.Spec.Name = "$(touch " + pwned + ")"
	l.Spec.Args = "; rm -rf " + victim + " `touch " + pwned + "` && touch " + pwned
	k, _ := reg.Lookup("echoer")
	r := startKind(t, k, l)
	if e := waitDone(t, r); e.Code != 0 {
		t.Fatalf("exit = %+v; stderr:\n%s", e, readFile(t, l.Dir, StderrFile))
	}
	want := strings.Join([]string{
		l.Spec.Name, ";", "rm", "-rf", victim, "`touch", pwned + "`", "&&", "touch", pwned,
		"--raw=" + l.Spec.Args,
	}, "\n") + "\n"
	if got := readFile(t, l.Dir, StdoutFile); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if exists(l.Dir, "pwned") || !exists(l.Dir, "victim") {
		t.Errorf("a value was interpreted by a shell: pwned exists %v, victim exists %v", exists(l.Dir, "pwned"), exists(l.Dir, "victim"))
	}
}

// The command is looked up at Start, not at AddTemplate: a worker may be
// configured before the tool is installed.
func TestTemplateCommandNotFound(t *testing.T) {
	reg := NewRegistry()
	if err := reg.AddTemplate("ghost", "no-such-tool-aloha --name {name} {args}"); err != nil {
		t.Fatalf("AddTemplate = %v; the command must not be looked up yet", err)
	}
	k, _ := reg.Lookup("ghost")
	l := newLaunch(t, "ghost", "x")
	r, err := k.Start(context.Background(), l)
	if err == nil {
		r.Shutdown("unexpected")
		<-r.Done()
		t.Fatal("Start of a missing command succeeded")
	}
	if !strings.Contains(err.Error(), "no-such-tool-aloha") {
		t.Errorf("Start error %q does not name the command", err)
	}
}
