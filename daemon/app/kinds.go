package app

import (
	"context"
	"errors"
	"fmt"
)

// Names of the built-in kinds.
const (
	// KindShell runs spec.Args as a bash script: /bin/bash -c <args>.
	KindShell = "shell"
	// KindExec runs spec.Argv, or spec.Args split by SplitWords, with no
	// shell in between.
	KindExec = "exec"
	// KindSimpleProcess is the original project's name for a shell
	// process; it is an alias of KindShell so that the REST example of
	// the original README works unchanged.
	KindSimpleProcess = "me.jrwang.app.SimpleProcess"
)

// bash is the shell of the shell kind. An absolute path keeps the
// launch independent of the application's PATH.
const bash = "/bin/bash"

type shellKind struct{ name string }

func (k shellKind) Name() string { return k.name }

func (k shellKind) Start(ctx context.Context, l *Launch) (Running, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return startProcess(l, []string{bash, "-c", l.Spec.Args}, true)
}

// CommandKind returns a process kind named name whose command line is
// computed by build for each launch. It is how a program that embeds the
// worker adds a kind without writing a Running: the process is run,
// logged, stopped and re-attached exactly like the built-in kinds. The
// first word of the command is looked up in the PATH of l.Env (or the
// worker's PATH when l.Env has none) unless it contains a slash; a
// relative path with a slash is taken relative to l.Dir.
func CommandKind(name string, build func(l *Launch) ([]string, error)) Kind {
	return &commandKind{name: name, build: build}
}

type commandKind struct {
	name  string
	build func(l *Launch) ([]string, error)
}

func (k *commandKind) Name() string { return k.name }

func (k *commandKind) Start(ctx context.Context, l *Launch) (Running, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	argv, err := k.build(l)
	if err != nil {
		return nil, fmt.Errorf("kind %s: %w", k.name, err)
	}
	if len(argv) == 0 || argv[0] == "" {
		return nil, fmt.Errorf("kind %s: empty command", k.name)
	}
	path, err := lookPath(argv[0], l.Env, l.Dir)
	if err != nil {
		return nil, fmt.Errorf("kind %s: %w", k.name, err)
	}
	argv = append([]string{path}, argv[1:]...)
	return startProcess(l, argv, false)
}

// execArgv is the command of the exec kind.
func execArgv(l *Launch) ([]string, error) {
	argv, err := argsWords(&l.Spec)
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, errors.New("no command: args and argv are empty")
	}
	return argv, nil
}
