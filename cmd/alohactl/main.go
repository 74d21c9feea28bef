// Command alohactl is Aloha's command-line client: it submits, lists,
// watches and kills applications on an Aloha cluster through the client
// SDK. Every command prints an aligned table by default and JSON with
// -o json; followed streams print one JSON object per line.
//
// Exit codes (also in the README):
//
//	0    success; with submit --wait, the application FINISHED
//	1    the command failed: no master reachable, unknown id, refused,
//	     invalid, authentication failed, timed out; with submit --wait,
//	     the application FAILED without an exit status
//	2    usage error: bad flag, bad value, missing argument, unreadable
//	     --secret-file
//	N    submit --wait: the application FAILED with exit status N
//	125  submit --wait: the application ended in ERROR (it could not be
//	     run, or its worker was lost)
//	130  interrupted (Ctrl-C or SIGTERM) while following; with submit
//	     --wait the application keeps running
//	137  submit --wait: the application was KILLED (128+9, as a shell
//	     reports a killed process)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
)

// cli is the whole command line: the global flags and one struct per
// command, each with a Run method.
type cli struct {
	Globals

	Submit     submitCmd     `cmd:"" help:"Submit an application; with --wait, follow it to its end and exit with its outcome."`
	Status     statusCmd     `cmd:"" help:"Show an application: spec, state, worker, exit code and history."`
	Kill       killCmd       `cmd:"" help:"Kill an application."`
	List       listCmd       `cmd:"" aliases:"ls" help:"List applications, newest first."`
	Workers    workersCmd    `cmd:"" help:"List workers with their cores and memory in use."`
	Logs       logsCmd       `cmd:"" help:"Print an application's output; with -f, follow it until the application ends."`
	Events     eventsCmd     `cmd:"" help:"Print the cluster's events; with -f, follow them as they happen."`
	Top        topCmd        `cmd:"" help:"Watch and steer the cluster in a terminal UI: apps, workers, events, logs; filter, sort, kill."`
	Version    versionCmd    `cmd:"" help:"Print alohactl's version and, if a master answers, the master's."`
	Completion completionCmd `cmd:"" help:"Print a shell completion script (bash, zsh or fish)."`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, runs the command and returns the exit code. Every
// failure is reported here, as one line on stderr.
func run(args []string, stdout, stderr io.Writer) int {
	var c cli
	parser, err := kong.New(&c,
		kong.Name("alohactl"),
		kong.Description("Submit, watch and kill applications on an Aloha cluster.\n\n"+
			"Masters come from --master or ALOHA_MASTER; the cluster's secret from --secret-file or ALOHA_SECRET."),
		kong.Writers(stdout, stderr),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintln(stderr, "alohactl:", err) // a broken grammar: a programming error
		return exitFailed
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		help := "alohactl --help"
		var pe *kong.ParseError
		if errors.As(err, &pe) && pe.Context != nil && pe.Context.Command() != "" {
			help = "alohactl " + pe.Context.Command() + " --help"
		}
		fmt.Fprintf(stderr, "alohactl: %s (see %s)\n", oneLine(err.Error()), help)
		return exitUsage
	}
	if err := c.Globals.init(stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "alohactl:", oneLine(err.Error()))
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kctx.BindTo(ctx, (*context.Context)(nil))
	err = kctx.Run(&c.Globals)
	if err != nil && ctx.Err() != nil && !errors.As(err, new(*exitError)) {
		// Interrupted: the user asked to stop; nothing went wrong.
		err = &exitError{code: exitInterrupted}
	}
	return report(err, &c.Globals, stderr)
}
