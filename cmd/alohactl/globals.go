package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/alohasched/aloha/client"
)

// Globals are the flags every command takes, and what main derives from
// them before a command runs.
type Globals struct {
	Master     string        `env:"ALOHA_MASTER" default:"aloha://127.0.0.1:7077" placeholder:"URLS" help:"Master URL(s), comma-separated: aloha://host:port,... (default ${default})."`
	SecretFile string        `name:"secret-file" env:"ALOHA_SECRET_FILE" placeholder:"FILE" help:"Read the cluster's secret (aloha.authenticate.secret) from FILE; without it, from env ALOHA_SECRET. Never a flag value, so it does not show in ps."`
	Output     string        `short:"o" enum:"table,json" default:"table" help:"Output format: table or json (followed streams: one JSON object per line)."`
	Timeout    time.Duration `default:"30s" help:"Bound on each command, retries included (followed streams are not bounded)."`
	NoColor    bool          `name:"no-color" help:"Never colour states (colour is also off when NO_COLOR is set or output is not a terminal)."`

	stdout, stderr     io.Writer
	colorOut, colorErr bool // whether stdout and stderr get ANSI colours
}

// init checks the flags and decides on colours.
func (g *Globals) init(stdout, stderr io.Writer) error {
	g.stdout, g.stderr = stdout, stderr
	if g.Timeout <= 0 {
		return usageErrorf("--timeout %s must be positive, e.g. 30s or 2m", g.Timeout)
	}
	if strings.TrimSpace(g.Master) == "" {
		return usageErrorf("--master is empty; give aloha://host:port (or set ALOHA_MASTER)")
	}
	color := !g.NoColor && os.Getenv("NO_COLOR") == ""
	g.colorOut = color && isTerminal(stdout)
	g.colorErr = color && isTerminal(stderr)
	return nil
}

func (g *Globals) json() bool { return g.Output == "json" }

// secret returns the cluster's secret: the content of --secret-file
// (trailing newline removed), else $ALOHA_SECRET, else none. It is never
// a flag value, so it does not show in ps.
func (g *Globals) secret() ([]byte, error) {
	if g.SecretFile != "" {
		b, err := os.ReadFile(g.SecretFile)
		if err != nil {
			return nil, usageErrorf("cannot read the secret file: %v", err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return nil, usageErrorf("the secret file %s is empty", g.SecretFile)
		}
		return []byte(s), nil
	}
	if s := os.Getenv("ALOHA_SECRET"); s != "" {
		return []byte(s), nil
	}
	return nil, nil
}

// client returns a client for the masters. The caller closes it.
func (g *Globals) client() (*client.Client, error) {
	secret, err := g.secret()
	if err != nil {
		return nil, err
	}
	c, err := client.New(client.Config{Masters: []string{g.Master}, Secret: secret})
	if err != nil {
		return nil, usageErrorf("--master %q: %s (want aloha://host:port, comma-separated for several masters)", g.Master, rootCause(err))
	}
	return c, nil
}

// bounded returns ctx limited by --timeout.
func (g *Globals) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, g.Timeout, errTimedOut)
}

// errTimedOut is the cause of a context that --timeout ended.
var errTimedOut = errors.New("timed out")

// withClient runs fn with a client and a context bounded by --timeout.
func (g *Globals) withClient(ctx context.Context, fn func(ctx context.Context, c *client.Client) error) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	defer c.Close()
	return g.timed(ctx, func(ctx context.Context) error { return fn(ctx, c) })
}

// timed runs fn bounded by --timeout and says so when the bound, rather
// than the cluster, ended it.
func (g *Globals) timed(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := g.bounded(ctx)
	defer cancel()
	err := fn(ctx)
	var ue *client.UnreachableError
	if err != nil && errors.Is(context.Cause(ctx), errTimedOut) && !isClusterAnswer(err) && !errors.As(err, &ue) {
		return fmt.Errorf("no answer within --timeout %s; raise --timeout or check the cluster", g.Timeout)
	}
	return err
}
