package app_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/app"
)

// A program that embeds the worker defines a process kind with a function
// from the launch to a command line, and gets logging, process groups,
// shutdown and re-attachment for free.
func ExampleCommandKind() {
	reg := app.NewRegistry()
	greet := app.CommandKind("greet", func(l *app.Launch) ([]string, error) {
		return []string{"echo", "hello,", l.Spec.Name}, nil
	})
	if err := reg.Register(greet); err != nil {
		log.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "aloha-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	kind, _ := reg.Lookup("greet")
	run, err := kind.Start(context.Background(), &app.Launch{
		AppID:       "app-20250101000000-0000",
		Spec:        api.AppSpec{Name: "world", EntryPoint: "greet", Cores: 1, Memory: 64},
		Dir:         dir,
		Env:         []string{"PATH=/usr/bin:/bin"},
		KillTimeout: time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	<-run.Done()
	fmt.Println("exit code:", run.Exit().Code)

	out, err := os.ReadFile(filepath.Join(dir, app.StdoutFile))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out))
	// Output:
	// exit code: 0
	// hello, world
}
