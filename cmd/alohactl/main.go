// Command alohactl is Aloha's command-line client.
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
	fmt.Println(buildinfo.String("alohactl"))
	return nil
}

func main() {
	var c cli
	ctx := kong.Parse(&c,
		kong.Name("alohactl"),
		kong.Description("Submit, watch and kill applications on an Aloha cluster."),
		kong.UsageOnError(),
	)
	if err := ctx.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "alohactl:", err)
		os.Exit(1)
	}
}
