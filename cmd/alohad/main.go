// Command alohad is the Aloha daemon: it runs a master, a worker, or both
// in one process.
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"

	"github.com/alohasched/aloha/internal/buildinfo"
)

type cli struct {
	Version versionCmd `cmd:"" help:"Print the version and exit."`
}

type versionCmd struct{}

func (versionCmd) Run() error {
	fmt.Println(buildinfo.String("alohad"))
	return nil
}

func main() {
	var c cli
	ctx := kong.Parse(&c,
		kong.Name("alohad"),
		kong.Description("The Aloha daemon: schedules and runs long-running applications across a cluster."),
		kong.UsageOnError(),
	)
	if err := ctx.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "alohad:", err)
		os.Exit(1)
	}
}
