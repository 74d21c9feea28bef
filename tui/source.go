package tui

import (
	"context"
	"io"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
)

// Source is what the model reads the cluster through: *client.Client in
// production, a fake in tests. Every method may block; the model calls
// them only from commands.
type Source interface {
	List(ctx context.Context, req api.ListAppsRequest) ([]api.AppInfo, error)
	Workers(ctx context.Context) ([]api.WorkerInfo, error)
	MasterInfo(ctx context.Context) (*api.MasterInfo, error)
	Status(ctx context.Context, appID string) (*api.AppInfo, error)
	Kill(ctx context.Context, appID string) (*api.KillAppResponse, error)
	Logs(ctx context.Context, appID string, opts client.LogOptions, w io.Writer) error
	Events(ctx context.Context, after uint64, follow bool, fn func(api.Event) error) error
}

var _ Source = (*client.Client)(nil)

// Options tune the UI. The zero value is usable.
type Options struct {
	// Input and Output are the terminal; nil means stdin and stdout.
	Input  io.Reader
	Output io.Writer
	// NoColor draws without colours (NO_COLOR in the environment does too).
	NoColor bool
	// Refresh is the interval of the light MasterInfo + Workers refresh
	// that keeps the header and the workers' resources current. Default 2 s.
	Refresh time.Duration
	// Timeout bounds each call to the cluster other than the followed
	// streams. Default 10 s.
	Timeout time.Duration
	// LogLines is how many lines of an application's output the log view
	// keeps; earlier lines are dropped and counted. Default 10,000.
	LogLines int
	// MaxApps bounds the applications kept in memory; beyond it the
	// longest-ended are forgotten. Default 20,000 (the master lists at
	// most 10,000 at once).
	MaxApps int
	// MaxEvents is how many events the events view keeps. Default 2,000.
	MaxEvents int
	// Masters names the masters in messages ("no master reachable at …").
	Masters string
	// Now is the clock; nil means time.Now. Tests pin it.
	Now func() time.Time
}

// withDefaults fills in the zero fields.
func (o Options) withDefaults() Options {
	if o.Refresh <= 0 {
		o.Refresh = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.LogLines <= 0 {
		o.LogLines = 10_000
	}
	if o.MaxApps <= 0 {
		o.MaxApps = 20_000
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = 2_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
