package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
)

type statusCmd struct {
	ID string `arg:"" name:"app-id" help:"Application id (app-YYYYMMDDHHMMSS-NNNN)."`
}

func (s *statusCmd) Run(ctx context.Context, g *Globals) error {
	var info *api.AppInfo
	err := g.withClient(ctx, func(ctx context.Context, c *client.Client) (err error) {
		info, err = c.Status(ctx, s.ID)
		return err
	})
	if err != nil {
		return forApp(s.ID, err)
	}
	if g.json() {
		return printJSON(g.stdout, info)
	}
	printStatus(g, info, time.Now())
	return nil
}

// printStatus writes an application as "key: value" lines, then its
// history.
func printStatus(g *Globals, a *api.AppInfo, now time.Time) {
	tw := newTable(g.stdout)
	kv := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	opt := func(k, v string) {
		if v != "" {
			kv(k, v)
		}
	}
	kv("ID", a.ID)
	kv("Name", a.Spec.Name)
	kv("Kind", a.Spec.EntryPoint)
	kv("State", paint(g.colorOut, string(a.State)))
	opt("Message", a.Message)
	if a.ExitCode != nil {
		kv("Exit code", strconv.Itoa(*a.ExitCode))
	}
	if a.WorkerID != "" {
		kv("Worker", a.WorkerID+" ("+a.WorkerAddr+")")
	}
	kv("Cores", strconv.Itoa(a.Spec.Cores))
	kv("Memory", megabytes(a.Spec.Memory))
	if len(a.Spec.Argv) > 0 {
		kv("Argv", quoteWords(a.Spec.Argv))
	} else {
		opt("Args", a.Spec.Args)
	}
	opt("Libs", strings.Join(a.Spec.Libs, ", "))
	opt("Env", pairs(a.Spec.Env))
	opt("Labels", pairs(a.Spec.Labels))
	kv("Supervise", strconv.FormatBool(a.Spec.Supervise))
	kv("Restart", restartText(a.Spec.Restart))
	if a.Spec.MaxRuntime > 0 {
		kv("Max runtime", a.Spec.MaxRuntime.String())
	}
	kv("Restarts", strconv.Itoa(a.Restarts))
	kv("Submitted", stamp(a.SubmittedAt)+" ("+since(a.SubmittedAt, now)+" ago)")
	if !a.StartedAt.IsZero() {
		kv("Started", stamp(a.StartedAt))
	}
	if !a.EndedAt.IsZero() {
		kv("Ended", stamp(a.EndedAt))
	}
	if !a.StartedAt.IsZero() {
		kv("Duration", runTime(a, now))
	}
	opt("Relaunched from", a.RelaunchedFrom)
	opt("Relaunched as", a.RelaunchedAs)
	tw.Flush()
	if len(a.History) == 0 {
		return
	}
	fmt.Fprintln(g.stdout, "History:")
	tw = newTable(g.stdout)
	for _, h := range a.History {
		row(tw, "  "+stamp(h.Time), paint(g.colorOut, string(h.State)), h.Message)
	}
	tw.Flush()
}

func restartText(p api.RestartPolicy) string {
	if p.Policy != api.RestartOnFailure {
		return orDash(p.Policy)
	}
	return fmt.Sprintf("on-failure (at most %d restarts, backoff %s)", p.MaxAttempts, p.Backoff)
}

// runTime is how long the application ran, or has been running.
func runTime(a *api.AppInfo, now time.Time) string {
	switch {
	case a.StartedAt.IsZero():
		return "-"
	case !a.EndedAt.IsZero():
		return human(a.EndedAt.Sub(a.StartedAt))
	}
	return human(now.Sub(a.StartedAt))
}

func pairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, " ")
}

// quoteWords shows an argument vector, quoting words that need it.
func quoteWords(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w == "" || strings.ContainsAny(w, " \t\n\"'\\$`") {
			w = strconv.Quote(w)
		}
		out[i] = w
	}
	return strings.Join(out, " ")
}

type killCmd struct {
	ID string `arg:"" name:"app-id" help:"Application id."`
}

// killResult is kill's JSON answer.
type killResult struct {
	ID      string       `json:"id"`
	State   api.AppState `json:"state"`
	Message string       `json:"message,omitempty"`
}

func (k *killCmd) Run(ctx context.Context, g *Globals) error {
	var resp *api.KillAppResponse
	err := g.withClient(ctx, func(ctx context.Context, c *client.Client) (err error) {
		resp, err = c.Kill(ctx, k.ID)
		return err
	})
	if err != nil {
		return forApp(k.ID, err)
	}
	if g.json() {
		return printJSON(g.stdout, killResult{ID: k.ID, State: resp.State, Message: resp.Message})
	}
	msg := resp.Message
	if msg == "" {
		msg = "kill requested for " + k.ID
	}
	_, err = fmt.Fprintln(g.stdout, msg)
	return err
}

type listCmd struct {
	State []string `sep:"," placeholder:"STATE,..." complete:"SUBMITTED,LAUNCHING,RUNNING,FINISHED,FAILED,KILLED,ERROR,RELAUNCHING,UNKNOWN" help:"Only applications in these states, e.g. RUNNING,SUBMITTED."`
	Limit int      `placeholder:"N" help:"Only the N newest applications."`
}

func (l *listCmd) Run(ctx context.Context, g *Globals) error {
	req := api.ListAppsRequest{Limit: l.Limit}
	if l.Limit < 0 {
		return usageErrorf("--limit %d: must not be negative", l.Limit)
	}
	for _, s := range l.State {
		st, err := api.ParseAppState(strings.TrimSpace(s))
		if err != nil {
			return usageErrorf("--state: %v", err)
		}
		req.States = append(req.States, st)
	}
	var apps []api.AppInfo
	err := g.withClient(ctx, func(ctx context.Context, c *client.Client) (err error) {
		apps, err = c.List(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if g.json() {
		if apps == nil {
			apps = []api.AppInfo{}
		}
		return printJSON(g.stdout, apps)
	}
	now := time.Now()
	tw := newTable(g.stdout)
	row(tw, "ID", "NAME", "KIND", header(g.colorOut, "STATE"), "WORKER", "CORES", "MEM", "AGE", "DURATION", "RESTARTS")
	for i := range apps {
		a := &apps[i]
		row(tw, a.ID, a.Spec.Name, a.Spec.EntryPoint, paint(g.colorOut, string(a.State)), orDash(a.WorkerAddr),
			strconv.Itoa(a.Spec.Cores), megabytes(a.Spec.Memory), since(a.SubmittedAt, now), runTime(a, now),
			strconv.Itoa(a.Restarts))
	}
	return tw.Flush()
}
