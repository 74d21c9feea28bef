package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
	"github.com/alohasched/aloha/internal/buildinfo"
)

// versionProbe bounds version's question to the master, which is
// optional: alohactl version must answer quickly without a cluster.
const versionProbe = 3 * time.Second

type workersCmd struct{}

func (workersCmd) Run(ctx context.Context, g *Globals) error {
	var workers []api.WorkerInfo
	err := g.withClient(ctx, func(ctx context.Context, c *client.Client) (err error) {
		workers, err = c.Workers(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if g.json() {
		if workers == nil {
			workers = []api.WorkerInfo{}
		}
		return printJSON(g.stdout, workers)
	}
	now := time.Now()
	tw := newTable(g.stdout)
	row(tw, "ID", "ADDRESS", header(g.colorOut, "STATE"), "CORES", "MEMORY", "APPS", "LAST HEARTBEAT")
	for _, w := range workers {
		row(tw, w.ID, w.Addr, paint(g.colorOut, string(w.State)),
			fmt.Sprintf("%d/%d", w.CoresUsed, w.Cores),
			megabytes(w.MemoryUsed)+"/"+megabytes(w.Memory),
			strconv.Itoa(len(w.Apps)), since(w.LastHeartbeat, now)+" ago")
	}
	return tw.Flush()
}

type eventsCmd struct {
	Follow bool   `short:"f" help:"Keep printing events as they happen, until interrupted (not bounded by --timeout)."`
	After  uint64 `placeholder:"SEQ" help:"Only events after sequence number SEQ (the leader keeps the last 10,000)."`
}

func (e *eventsCmd) Run(ctx context.Context, g *Globals) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	defer c.Close()
	out := &lineWriter{w: g.stdout}
	emit := func(ev api.Event) error {
		if g.json() {
			return out.jsonLine(ev)
		}
		_, err := fmt.Fprintln(out, eventLine(ev, g.colorOut))
		return err
	}
	if !e.Follow {
		return g.timed(ctx, func(ctx context.Context) error { return c.Events(ctx, e.After, false, emit) })
	}
	return c.Events(ctx, e.After, true, emit)
}

// eventLine formats an event for a terminal: time, sequence number, type,
// subject (application, worker or leader) and details, which start with
// the state for an application.
func eventLine(e api.Event, color bool) string {
	subject, detail := "-", e.Message
	switch e.Type {
	case api.EventAppStateChanged:
		subject, detail = e.AppID, paint(color, string(e.State))+"  "+e.Message
	case api.EventAppRelaunched:
		subject, detail = e.AppID, "relaunched as "+e.NewAppID+": "+e.Message
	case api.EventWorkerJoined, api.EventWorkerLost:
		subject, detail = e.WorkerID, e.WorkerAddr+": "+e.Message
	case api.EventLeaderChanged:
		subject, detail = e.Leader, fmt.Sprintf("epoch %d: %s", e.Epoch, e.Message)
	case api.EventLagged:
		detail = fmt.Sprintf("missed %d events: %s", e.Dropped, e.Message)
	}
	return fmt.Sprintf("%s  %-6s %-16s %-23s  %s", stampMillis(e.Time), "#"+strconv.FormatUint(e.Seq, 10), e.Type, subject, detail)
}

// stateLine formats an application's state change for submit --wait.
func stateLine(e api.Event, color bool) string {
	if e.Type == api.EventAppRelaunched {
		return fmt.Sprintf("%s  %s relaunched as %s: %s", stampMillis(e.Time), e.AppID, e.NewAppID, e.Message)
	}
	return fmt.Sprintf("%s  %s %s: %s", stampMillis(e.Time), e.AppID, paint(color, string(e.State)), e.Message)
}

func stampMillis(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05.000") }

type versionCmd struct{}

// versionResult is version's JSON answer; Master is absent when no master
// answered, and MasterError says why.
type versionResult struct {
	Client      string          `json:"client"`
	Version     string          `json:"version"`
	Master      *api.MasterInfo `json:"master,omitempty"`
	MasterError string          `json:"masterError,omitempty"`
}

func (versionCmd) Run(ctx context.Context, g *Globals) error {
	res := versionResult{Client: buildinfo.String("alohactl"), Version: buildinfo.Version}
	c, err := g.client()
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, min(g.Timeout, versionProbe))
		res.Master, err = c.MasterInfo(ctx)
		cancel()
		c.Close()
	}
	if err != nil {
		res.MasterError, _ = describe(err, g)
	}
	if g.json() {
		return printJSON(g.stdout, res)
	}
	fmt.Fprintln(g.stdout, res.Client)
	if res.Master != nil {
		m := res.Master
		fmt.Fprintf(g.stdout, "master %s at %s (%s, recovery %s)\n", m.Version, m.URL, m.State, m.RecoveryMode)
	} else {
		fmt.Fprintf(g.stdout, "master: %s\n", res.MasterError)
	}
	return nil
}
