package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/app"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/master"
	"github.com/alohasched/aloha/internal/testutil"
)

// startLocal runs an in-process cluster on free ports until the test ends.
func startLocal(t *testing.T, conf *config.Conf, opts LocalOptions) *Local {
	t.Helper()
	for k, v := range map[string]string{config.MasterPort: "0", config.MasterRESTPort: "0"} {
		if err := conf.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if opts.WorkDir == "" {
		opts.WorkDir = t.TempDir()
	}
	l, err := NewLocal(conf, opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("local Run = %v", err)
		}
	})
	waitWorkers(t, l, opts.Workers)
	return l
}

func waitWorkers(t *testing.T, l *Local, n int) {
	t.Helper()
	b := master.Backend{M: l.Master.Scheduler()}
	testutil.WaitFor(t, 20*time.Second, func() error {
		info, err := b.MasterInfo(context.Background())
		if err != nil {
			return err
		}
		if info.AliveWorkers != n {
			return fmt.Errorf("%d workers alive, want %d", info.AliveWorkers, n)
		}
		return nil
	})
}

func waitFinal(t *testing.T, l *Local, id string) *api.AppInfo {
	t.Helper()
	b := master.Backend{M: l.Master.Scheduler()}
	var info *api.AppInfo
	testutil.WaitFor(t, 20*time.Second, func() error {
		var err error
		if info, err = b.Status(context.Background(), id); err != nil {
			return err
		}
		if !info.State.IsFinal() {
			return fmt.Errorf("%s is %s (%s)", id, info.State, info.Message)
		}
		return nil
	})
	return info
}

// Operators add kinds through configuration; the values reach the program
// as separate words, never through a shell.
func TestConfiguredTemplateKind(t *testing.T) {
	conf := config.Defaults()
	if err := conf.Set(config.KindCommand("echoargs"), `printf "%s|" --name {name} --cores {cores} --libs {libs} {args}`, "test"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l := startLocal(t, conf, LocalOptions{Workers: 1, Cores: 2, Memory: 1024, WorkDir: dir})
	b := master.Backend{M: l.Master.Scheduler()}
	id, err := b.Submit(context.Background(), api.AppSpec{
		Name: "$(touch pwned)", EntryPoint: "echoargs", Args: `one "two words" ;rm`, Libs: []string{"a.jar", "b.jar"}, Cores: 2, Memory: 64,
	})
	if err != nil {
		t.Fatal(err)
	}
	if info := waitFinal(t, l, id); info.State != api.AppFinished {
		t.Fatalf("template app = %+v", info)
	}
	out, err := os.ReadFile(filepath.Join(dir, "worker-1", id, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "--name|$(touch pwned)|--cores|2|--libs|a.jar,b.jar|one|two words|;rm|"; string(out) != want {
		t.Fatalf("stdout = %q, want %q", out, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "worker-1", id, "pwned")); err == nil {
		t.Fatal("a value was run by a shell")
	}
}

// Programs that embed Aloha register their own kinds.
func TestEmbeddedKind(t *testing.T) {
	kinds := app.NewRegistry()
	if err := kinds.Register(app.CommandKind("greet", func(l *app.Launch) ([]string, error) {
		return []string{"/bin/echo", "hello", l.Spec.Name}, nil
	})); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l := startLocal(t, config.Defaults(), LocalOptions{Workers: 1, Cores: 1, Memory: 512, WorkDir: dir, Kinds: kinds})
	b := master.Backend{M: l.Master.Scheduler()}
	id, err := b.Submit(context.Background(), api.AppSpec{Name: "world", EntryPoint: "greet", Memory: 64})
	if err != nil {
		t.Fatal(err)
	}
	if info := waitFinal(t, l, id); info.State != api.AppFinished {
		t.Fatalf("app = %+v", info)
	}
	out, _ := os.ReadFile(filepath.Join(dir, "worker-1", id, "stdout"))
	if string(out) != "hello world\n" {
		t.Fatalf("stdout = %q", out)
	}
	_, err = b.Submit(context.Background(), api.AppSpec{Name: "x", EntryPoint: "nope"})
	if err == nil || !strings.Contains(err.Error(), "known kinds: exec, greet, me.jrwang.app.SimpleProcess, shell") {
		t.Fatalf("unknown kind = %v", err)
	}
}
