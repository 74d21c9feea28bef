package main

import (
	"bytes"
	"context"
	"io"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
)

const (
	// firstTailWindow is how much output is read first for --tail; the
	// window grows fourfold until it holds the lines asked for, up to
	// maxTailWindow.
	firstTailWindow = 64 << 10
	maxTailWindow   = 64 << 20
	// followTailWindow is the window --tail looks back in when following:
	// one read of the worker (client.Logs reads 256 KiB at a time), so
	// that the first write holds exactly the output there was.
	followTailWindow = 256 << 10
)

type logsCmd struct {
	Follow bool   `short:"f" help:"Follow the output until the application ends (not bounded by --timeout)."`
	Stderr bool   `help:"Print the application's stderr instead of its stdout."`
	Tail   int    `placeholder:"N" help:"Print only the last N lines (when following, those written before the command started), from the last 256 KiB when following."`
	ID     string `arg:"" name:"app-id" help:"Application id."`
}

func (l *logsCmd) Run(ctx context.Context, g *Globals) error {
	if l.Tail < 0 {
		return usageErrorf("--tail %d: must not be negative", l.Tail)
	}
	stream := api.Stdout
	if l.Stderr {
		stream = api.Stderr
	}
	var out io.Writer = g.stdout
	if g.json() {
		j := &jsonLines{out: &lineWriter{w: g.stdout}, appID: l.ID, stream: string(stream)}
		defer j.Close()
		out = j
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	defer c.Close()
	if !l.Follow {
		return forApp(l.ID, g.timed(ctx, func(ctx context.Context) error {
			if l.Tail == 0 {
				return c.Logs(ctx, l.ID, client.LogOptions{Stream: stream}, out)
			}
			return tailLines(ctx, c, l.ID, stream, l.Tail, out)
		}))
	}
	opts := client.LogOptions{Stream: stream, Follow: true}
	if l.Tail > 0 {
		// Whether there is output yet decides whether the first write is
		// old output to cut to N lines, or new output to print whole.
		var probe bytes.Buffer
		_ = g.timed(ctx, func(ctx context.Context) error {
			return c.Logs(ctx, l.ID, client.LogOptions{Stream: stream, Tail: 1}, &probe)
		})
		if probe.Len() > 0 {
			opts.Tail = followTailWindow
			out = &firstWriteTail{w: out, n: l.Tail}
		}
	}
	return forApp(l.ID, c.Logs(ctx, l.ID, opts, out))
}

// tailLines writes the last n lines of the application's output.
func tailLines(ctx context.Context, c *client.Client, id string, stream api.LogStream, n int, w io.Writer) error {
	for window := int64(firstTailWindow); ; window *= 4 {
		var buf bytes.Buffer
		if err := c.Logs(ctx, id, client.LogOptions{Stream: stream, Tail: window}, &buf); err != nil {
			return err
		}
		b := buf.Bytes()
		if int64(len(b)) < window || bytes.Count(b, []byte{'\n'}) > n || window >= maxTailWindow {
			_, err := w.Write(lastLines(b, n))
			return err
		}
	}
}

// lastLines returns the last n lines of b; a last line without its
// newline counts as a line.
func lastLines(b []byte, n int) []byte {
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	for i := end - 1; i >= 0; i-- {
		if b[i] == '\n' {
			n--
			if n == 0 {
				return b[i+1:]
			}
		}
	}
	return b
}

// firstWriteTail cuts the first write (the output there already was) to
// its last n lines and passes every later write through.
type firstWriteTail struct {
	w    io.Writer
	n    int
	done bool
}

func (f *firstWriteTail) Write(p []byte) (int, error) {
	if f.done {
		return f.w.Write(p)
	}
	f.done = true
	if _, err := f.w.Write(lastLines(p, f.n)); err != nil {
		return 0, err
	}
	return len(p), nil
}
