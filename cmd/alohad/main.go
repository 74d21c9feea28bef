// Command alohad is the Aloha daemon: it runs a master, a worker, or a
// master and workers in one process (alohad local).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/alohasched/aloha/internal/buildinfo"
)

type cli struct {
	Master  masterCmd  `cmd:"" help:"Run a master: it schedules applications on workers and serves the REST API (port 6066)."`
	Worker  workerCmd  `cmd:"" help:"Run a worker that runs applications for the given masters."`
	Local   localCmd   `cmd:"" help:"Run a master and workers in one process: a whole cluster with no set-up."`
	Version versionCmd `cmd:"" help:"Print the version and exit."`
}

type versionCmd struct{}

func (versionCmd) Run(context.Context) error {
	fmt.Println(buildinfo.String("alohad"))
	return nil
}

func main() {
	var c cli
	parser := kong.Must(&c,
		kong.Name("alohad"),
		kong.Description("The Aloha daemon: schedules and runs long-running applications across a cluster."),
		kong.UsageOnError(),
		// As in the original, -h is the host; help is --help only.
		kong.PostBuild(func(k *kong.Kong) error {
			k.Model.HelpFlag.Short = 0
			return nil
		}),
	)
	kctx, err := parser.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "alohad: %v (see alohad --help)\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, the default handling comes back: a second
	// Ctrl-C ends a shutdown that hangs.
	context.AfterFunc(ctx, stop)
	kctx.BindTo(ctx, (*context.Context)(nil))
	if err := kctx.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "alohad:", oneLine(err))
		os.Exit(1)
	}
}
