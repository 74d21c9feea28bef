package main

import (
	"context"
	"time"

	"github.com/alohasched/aloha/tui"
)

// topCmd runs the terminal UI.
type topCmd struct {
	Refresh  time.Duration `default:"2s" help:"Interval of the light refresh of the header and the workers' resources (apps and events come from the event stream)."`
	LogLines int           `name:"log-lines" default:"10000" placeholder:"N" help:"Lines of an application's output the log view keeps; earlier lines are dropped and counted."`
}

func (t *topCmd) Run(ctx context.Context, g *Globals) error {
	if t.Refresh <= 0 {
		return usageErrorf("--refresh %s must be positive, e.g. 2s", t.Refresh)
	}
	if t.LogLines < 1 {
		return usageErrorf("--log-lines %d must be at least 1", t.LogLines)
	}
	if !isTerminal(g.stdout) {
		return usageErrorf("top needs a terminal and its output is not one; for scripts use list, workers or events -f")
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	defer c.Close()
	return tui.Run(ctx, c, tui.Options{
		Output: g.stdout, NoColor: !g.colorOut, Refresh: t.Refresh, Timeout: g.Timeout,
		LogLines: t.LogLines, Masters: g.Master,
	})
}
