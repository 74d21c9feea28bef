package app

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestRegistryBuiltins(t *testing.T) {
	reg := NewRegistry()
	want := []string{KindExec, KindSimpleProcess, KindShell}
	if got := reg.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	for _, n := range want {
		k, ok := reg.Lookup(n)
		if !ok || k.Name() != n {
			t.Errorf("Lookup(%q) = %v, %v; want the kind named %q", n, k, ok, n)
		}
	}
	if k, ok := reg.Lookup("spark"); ok {
		t.Errorf("Lookup(spark) = %v on a fresh registry", k)
	}
}

func TestRegistryDuplicate(t *testing.T) {
	reg := NewRegistry()
	noop := func(*Launch) ([]string, error) { return []string{"true"}, nil }
	for _, name := range []string{KindShell, KindExec, KindSimpleProcess} {
		if err := reg.Register(CommandKind(name, noop)); err == nil || !strings.Contains(err.Error(), "already registered") {
			t.Errorf("Register(%s) over a built-in = %v; want an error", name, err)
		}
	}
	if err := reg.AddTemplate("spark", "spark-submit {args}"); err != nil {
		t.Fatal(err)
	}
	if err := reg.AddTemplate("spark", "spark-submit2 {args}"); err == nil {
		t.Error("second AddTemplate(spark) succeeded")
	}
	if err := reg.Register(CommandKind("spark", noop)); err == nil {
		t.Error("Register over a template succeeded")
	}
	want := []string{KindExec, KindSimpleProcess, KindShell, "spark"}
	if got := reg.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func TestRegistryBadNames(t *testing.T) {
	reg := NewRegistry()
	noop := func(*Launch) ([]string, error) { return nil, nil }
	if err := reg.Register(nil); err == nil {
		t.Error("Register(nil) succeeded")
	}
	for _, name := range []string{"", "  ", "two words", "tab\there"} {
		if err := reg.Register(CommandKind(name, noop)); err == nil {
			t.Errorf("Register(%q) succeeded", name)
		}
		if err := reg.AddTemplate(name, "true"); err == nil {
			t.Errorf("AddTemplate(%q) succeeded", name)
		}
	}
}

// The original project's REST example submits this entry point; it must
// run its script as the shell kind does.
func TestRegistryAlias(t *testing.T) {
	l := newLaunch(t, KindSimpleProcess, `i=0; while [ $i -le 3 ]; do echo $i; ((i++)); done`)
	r := start(t, l)
	if e := waitDone(t, r); e.Code != 0 {
		t.Fatalf("exit = %+v", e)
	}
	if got, want := readFile(t, l.Dir, StdoutFile), "0\n1\n2\n3\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got := readFile(t, l.Dir, StderrFile); !strings.HasPrefix(got, `Launch command: "/bin/bash" "-c" "i=0;`) {
		t.Errorf("stderr header = %q", got)
	}
}

// Kinds of an embedding program are used like built-in ones.
func TestRegisterCommandKind(t *testing.T) {
	reg := NewRegistry()
	k := CommandKind("hello", func(l *Launch) ([]string, error) {
		return []string{"sh", "-c", `echo "hello $1 from $PWD"`, "sh", l.Spec.Name}, nil
	})
	if err := reg.Register(k); err != nil {
		t.Fatal(err)
	}
	got, ok := reg.Lookup("hello")
	if !ok {
		t.Fatal("Lookup(hello) failed")
	}
	l := newLaunch(t, "hello", "")
	l.Spec.Name = "world"
	r := startKind(t, got, l)
	if e := waitDone(t, r); e.Code != 0 {
		t.Fatalf("exit = %+v", e)
	}
	if out, want := readFile(t, l.Dir, StdoutFile), "hello world from "+l.Dir+"\n"; out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	// A build error and an empty command are Start errors naming the kind.
	bad := CommandKind("bad", func(*Launch) ([]string, error) { return nil, nil })
	if _, err := bad.Start(context.Background(), l); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("Start with an empty command = %v", err)
	}
}
