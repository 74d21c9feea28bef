// Package worker runs applications for the master: it registers with the
// leading master and heartbeats, launches and kills applications on
// orders, reports every state change, enforces maximum runtimes, serves
// application logs, re-attaches applications still running when it
// restarts on the same work directory, and cleans old application
// directories.
//
// # Concurrency
//
// The worker's state belongs to the loop in Run. Orders from the master,
// process exits, registration results and timers reach it through
// channels. Launching a process and reporting to the master happen on
// goroutines of their own so the loop never waits for a fork or a peer.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/app"
	"github.com/alohasched/aloha/wire"
)

// Options configure a Worker.
type Options struct {
	// Node is the serving wire node; its address identifies the worker.
	Node *wire.Node
	// Masters lists every master; the worker finds the leader itself.
	Masters []wire.Address
	Log     *slog.Logger
	// Cores and Memory (MB) are what the worker offers.
	Cores  int
	Memory int
	// WorkDir holds one directory per application.
	WorkDir string
	// Kinds are the application kinds this worker runs.
	Kinds *app.Registry
	// KillTimeout is the grace between SIGTERM and SIGKILL.
	KillTimeout time.Duration
	// RetainedApps bounds the finished applications remembered.
	RetainedApps int
	// Cleanup removes directories of applications ended longer than
	// AppDataTTL ago, checking every CleanupInterval.
	Cleanup         bool
	CleanupInterval time.Duration
	AppDataTTL      time.Duration
	// AskTimeout bounds registration and report round trips.
	AskTimeout time.Duration
	// MaxConcurrentLaunches bounds launches in flight; 0 means 4.
	MaxConcurrentLaunches int
	// KeepAppsOnExit leaves applications running when Run returns, for a
	// restarted worker to re-attach; by default they are stopped.
	KeepAppsOnExit bool
}

// Worker runs applications. Create it with New and run it with Run.
type Worker struct {
	opts  Options
	log   *slog.Logger
	node  *wire.Node
	id    string
	host  string
	port  int
	tasks chan func()
	wg    sync.WaitGroup
	ctx   context.Context
	// launchSlots bounds concurrent process starts.
	launchSlots chan struct{}

	// logMu guards endedApps, which log readers consult off the loop.
	logMu     sync.Mutex
	endedApps map[string]bool // true: ended; false: running

	// Counters for Stats, written on the loop and read from anywhere.
	running  atomic.Int64  // len(apps)
	launches atomic.Uint64 // launch orders that started a new run
	exits    map[api.AppState]*atomic.Uint64

	// Loop-only state.
	master      wire.Address // current leader; Host empty when none
	epoch       uint64       // newest leadership term seen
	session     uint64       // current registration session (api.LaunchApp)
	registered  bool
	registering bool
	hbInterval  time.Duration
	apps        map[string]*run // current runs by app id
	finished    []*run          // ended runs, oldest first
}

// run is one launch of an application on this worker. Loop-only.
type run struct {
	id        string
	run       int
	spec      api.AppSpec
	dir       string
	handle    app.Running // nil while starting
	startedAt time.Time
	endedAt   time.Time
	// killReason is set once a kill was ordered or the runtime exceeded.
	killReason string
	state      api.AppState
	exitCode   *int
	message    string
	// acked says the master has been told how the run ended.
	acked bool
	// launchedBy is the worker that launched the run: this one, or the
	// one a re-attached run was found from.
	launchedBy string
	maxRuntime *time.Timer
}

// New checks the options and returns a worker ready to Run.
func New(opts Options) (*Worker, error) {
	switch {
	case opts.Node == nil || opts.Node.Addr() == "":
		return nil, errors.New("worker: options: a serving Node is required")
	case len(opts.Masters) == 0:
		return nil, errors.New("worker: options: at least one master is required")
	case opts.Cores < 1:
		return nil, fmt.Errorf("worker: options: cores %d must be at least 1", opts.Cores)
	case opts.Memory < 1:
		return nil, fmt.Errorf("worker: options: memory %d MB must be at least 1", opts.Memory)
	case opts.WorkDir == "":
		return nil, errors.New("worker: options: a work directory is required")
	case opts.Kinds == nil:
		return nil, errors.New("worker: options: Kinds is required")
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.KillTimeout <= 0 {
		opts.KillTimeout = 10 * time.Second
	}
	if opts.RetainedApps < 1 {
		opts.RetainedApps = 200
	}
	if opts.AskTimeout <= 0 {
		opts.AskTimeout = 30 * time.Second
	}
	if opts.CleanupInterval <= 0 {
		opts.CleanupInterval = 30 * time.Minute
	}
	if opts.MaxConcurrentLaunches <= 0 {
		opts.MaxConcurrentLaunches = 4
	}
	dir, err := filepath.Abs(opts.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("worker: work dir %q: %w", opts.WorkDir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("worker: create work dir: %w", err)
	}
	opts.WorkDir = dir
	host, port, err := splitHostPort(opts.Node.Addr())
	if err != nil {
		return nil, fmt.Errorf("worker: node address: %w", err)
	}
	return &Worker{
		opts:        opts,
		log:         opts.Log,
		node:        opts.Node,
		id:          api.WorkerID(time.Now(), host, port),
		host:        host,
		port:        port,
		tasks:       make(chan func(), 256),
		launchSlots: make(chan struct{}, opts.MaxConcurrentLaunches),
		endedApps:   map[string]bool{},
		apps:        map[string]*run{},
		exits: map[api.AppState]*atomic.Uint64{
			api.AppFinished: {}, api.AppFailed: {}, api.AppKilled: {}, api.AppError: {},
		},
	}, nil
}

// ID is the worker's id.
func (w *Worker) ID() string { return w.id }

// Run serves until ctx is done. Applications still running when it
// returns are left running: a worker restarted on the same work dir
// re-attaches them. Use Shutdown first to stop them.
func (w *Worker) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w.ctx = ctx
	w.reattachAll()
	ep, err := w.node.Register(api.WorkerEndpoint, &endpoint{w: w})
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	w.startRegistration()
	heartbeat := time.NewTicker(time.Hour)
	heartbeat.Stop()
	cleanup := time.NewTicker(w.opts.CleanupInterval)
	defer cleanup.Stop()
	hbRunning := false
	for ctx.Err() == nil {
		if w.registered && !hbRunning {
			heartbeat.Reset(w.hbInterval)
			hbRunning = true
		}
		select {
		case <-ctx.Done():
		case f := <-w.tasks:
			f()
		case <-heartbeat.C:
			w.sendHeartbeat()
		case <-cleanup.C:
			if w.opts.Cleanup {
				w.cleanupOld(time.Now())
			}
		}
		if !w.registered && hbRunning {
			heartbeat.Stop()
			hbRunning = false
		}
	}
	heartbeat.Stop()
	for _, r := range w.apps {
		if r.maxRuntime != nil {
			r.maxRuntime.Stop()
		}
	}
	if !w.opts.KeepAppsOnExit {
		w.stopApps()
	}
	ep.Close()
	cancel()
	w.wg.Wait()
	return nil
}

// stopApps stops every run and waits for them, at most the kill timeout
// and a little more. Loop-only, at exit.
func (w *Worker) stopApps() {
	var handles []app.Running
	for _, r := range w.apps {
		if r.handle != nil {
			r.handle.Shutdown("worker stopping")
			handles = append(handles, r.handle)
		}
	}
	if len(handles) == 0 {
		return
	}
	w.log.Info("stopping applications", "count", len(handles))
	deadline := time.NewTimer(w.opts.KillTimeout + 2*time.Second)
	defer deadline.Stop()
	for _, h := range handles {
		select {
		case <-h.Done():
		case <-deadline.C:
			w.log.Warn("applications did not stop in time")
			return
		}
	}
}

// post runs f on the loop; it gives up when the worker is stopping.
func (w *Worker) post(f func()) {
	select {
	case w.tasks <- f:
	case <-w.ctx.Done():
	}
}

// goAttach runs f on a goroutine the worker waits for when it stops.
func (w *Worker) goAttach(f func()) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		f()
	}()
}
