// Package master is Aloha's scheduler: it registers workers and watches
// their heartbeats, accepts applications, places them on workers (FIFO,
// spread or pack), follows their state, relaunches supervised ones when a
// worker is lost, and answers clients.
//
// # Concurrency
//
// All cluster state belongs to one goroutine, the loop in Run. RPC
// messages, REST calls, timers and persistence completions reach it as
// requests or tasks on channels and are handled one at a time, so no lock
// guards the state. Helpers marked "loop-only" must be called from it.
//
// Every change that must survive a crash is committed to the Store before
// the action is acknowledged: handlers describe the change as a Batch and
// pass the acknowledgement as the continuation of persist.
package master

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/events"
	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/wire"
)

// Options configure a Master.
type Options struct {
	// Node is the serving wire node; the master registers its endpoint on it.
	Node *wire.Node
	// URL is this master's aloha:// address as workers and clients know it.
	URL string
	Log *slog.Logger
	// WorkerTimeout: a worker silent this long is DEAD (aloha.worker.timeout).
	WorkerTimeout time.Duration
	// DeadWorkerPersistence: DEAD workers are forgotten after this many
	// timeouts (aloha.dead.worker.persistence).
	DeadWorkerPersistence int
	// SpreadOut spreads applications over workers; false packs them.
	SpreadOut bool
	// RetainedApps bounds the finished applications kept for queries.
	RetainedApps int
	// Kinds are application kinds the master accepts even before a worker
	// that runs them registers (built-ins and configured templates).
	Kinds []string
	// Store persists state; nil keeps it in memory only (recovery mode NONE).
	Store recovery.Store
	// Elector decides whether this master leads; nil means it always does
	// (recovery mode NONE).
	Elector recovery.Elector
	// Events receives every event; nil creates a bus.
	Events *events.Bus
	// Listeners are told of every event, each through a bounded queue and
	// a goroutine of its own (package events: a slow, hung or panicking
	// listener never holds up the master). Run starts them and stops them
	// when it returns.
	Listeners []events.Listener
	// ListenerQueue bounds each listener's queue; 0 means
	// events.DefaultQueueSize.
	ListenerQueue int
	// ObserveSchedulingLatency, when set, is told on the loop, for every
	// placement, how long the application waited for it: from becoming
	// eligible (submitted, or queued again after a lost launch, a restart
	// backoff or a change of leader) to being placed on a worker. It must
	// not block.
	ObserveSchedulingLatency func(time.Duration)
	// Version is reported in MasterInfo.
	Version string
	// RecoveryMode is reported in MasterInfo.
	RecoveryMode string
}

// Master is the scheduler. Create it with New and run it with Run.
type Master struct {
	opts       Options
	log        *slog.Logger
	node       *wire.Node
	events     *events.Bus
	dispatcher *events.Dispatcher

	// submissions counts the submissions accepted since New.
	submissions atomic.Uint64

	requests chan request
	tasks    chan func()
	ready    chan struct{} // closed once Run serves
	stopped  chan struct{}
	wg       sync.WaitGroup // outboxes, committer, helpers

	// termEpoch mirrors epoch for readers off the loop (event streams); 0
	// while standby.
	termEpoch atomic.Uint64
	// termStart is the sequence number of the term's LeaderChanged event.
	termStart atomic.Uint64
	// curTerm mirrors term for the committer, which must not write a
	// batch of a term that has ended: a new term reloads the store, and an
	// old batch written after that would undo newer state.
	curTerm atomic.Pointer[recovery.Term]

	commitMu     sync.Mutex
	commitQueue  []commit
	commitSignal chan struct{} // capacity 1: "the queue is not empty"

	// Loop-only state.
	ctx           context.Context
	cancel        context.CancelFunc
	fatalErr      error
	state         api.MasterState
	term          *recovery.Term // nil while standby
	epoch         uint64
	recoveryTimer *time.Timer
	startedAt     time.Time
	ids           *api.AppIDs
	apps          map[string]*app
	appCount      map[api.AppState]int // apps by state, kept with apps
	waiting       []*app               // FIFO of applications to place
	completed     []*app               // finished, oldest first, at most RetainedApps
	workers       map[string]*worker
	byAddr        map[string]*worker // by RPC address (host:port)
	kinds         map[string]bool    // accepted without a worker
	byRequest     map[string]string  // submission request id -> app id
	scheduleDue   bool
	// unreasoned counts the apps at the end of waiting queued since the
	// last pass; reasonsStale says the workers changed since, so every
	// waiting app's reason must be computed again.
	unreasoned   int
	reasonsStale bool
}

// request is one RPC or REST call for the loop.
type request struct {
	from  wire.Address
	body  any
	reply func(any, error)
}

// commit is one batch on its way to the Store.
type commit struct {
	batch *recovery.Batch
	term  *recovery.Term // the term that made the change
	then  func()
	fail  func(error)
}

// New checks the options and returns a master ready to Run.
func New(opts Options) (*Master, error) {
	switch {
	case opts.Node == nil:
		return nil, errors.New("master: options: Node is required")
	case opts.URL == "":
		return nil, errors.New("master: options: URL is required")
	case opts.WorkerTimeout <= 0:
		return nil, fmt.Errorf("master: options: worker timeout %s must be positive", opts.WorkerTimeout)
	case opts.DeadWorkerPersistence < 1:
		return nil, fmt.Errorf("master: options: dead worker persistence %d must be at least 1", opts.DeadWorkerPersistence)
	case opts.RetainedApps < 1:
		return nil, fmt.Errorf("master: options: retained applications %d must be at least 1", opts.RetainedApps)
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Events == nil {
		opts.Events = events.NewBus(events.DefaultCapacity)
	}
	if opts.Elector == nil {
		opts.Elector = &recovery.Single{URL: opts.URL}
	}
	m := &Master{
		opts:         opts,
		log:          opts.Log,
		node:         opts.Node,
		events:       opts.Events,
		requests:     make(chan request, 1024),
		tasks:        make(chan func(), 256),
		commitSignal: make(chan struct{}, 1),
		ready:        make(chan struct{}),
		stopped:      make(chan struct{}),
		state:        api.MasterStandby,
		apps:         map[string]*app{},
		appCount:     map[api.AppState]int{},
		workers:      map[string]*worker{},
		byAddr:       map[string]*worker{},
		kinds:        map[string]bool{},
		byRequest:    map[string]string{},
	}
	for _, k := range opts.Kinds {
		m.kinds[k] = true
	}
	m.dispatcher = events.NewDispatcher(opts.Listeners, events.DispatcherOptions{Log: opts.Log, QueueSize: opts.ListenerQueue})
	if m.dispatcher.Len() > 0 {
		m.events.Tap(m.dispatcher.Publish)
	}
	return m, nil
}

// Ready is closed once Run serves requests.
func (m *Master) Ready() <-chan struct{} { return m.ready }

// Events is the master's event bus.
func (m *Master) Events() *events.Bus { return m.events }

// Run registers the master's endpoint, takes the lead and serves until ctx
// is done. It returns after every goroutine it started has ended.
func (m *Master) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	m.ctx, m.cancel = ctx, cancel
	defer close(m.stopped)
	ep, err := m.node.Register(api.MasterEndpoint, &endpoint{m: m})
	if err != nil {
		cancel()
		return fmt.Errorf("master: %w", err)
	}
	m.wg.Add(1)
	go m.commitLoop(ctx)
	// Not in wg: the dispatcher bounds its own wait for hung listeners.
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		m.dispatcher.Run(ctx)
	}()
	m.startedAt = time.Now()
	m.campaign()
	close(m.ready)
	check := time.NewTicker(m.opts.WorkerTimeout / 4)
	defer check.Stop()
	for ctx.Err() == nil {
		var lost <-chan struct{}
		if m.term != nil {
			lost = m.term.Lost
		}
		select {
		case <-ctx.Done():
		case r := <-m.requests:
			m.handle(r)
		case f := <-m.tasks:
			f()
		case <-check.C:
			if m.state.IsLeader() {
				m.checkWorkers(time.Now())
			}
		case <-lost:
			m.stepDown("leadership lost")
		}
		if m.scheduleDue && len(m.requests) == 0 {
			m.schedule()
		}
	}
	// Stop in order: timers and goroutines first, then the endpoint, so
	// nothing new starts while we wait for what runs. Resigning lets a
	// standby take over at once.
	if m.term != nil {
		m.term.Resign()
	}
	m.reset()
	m.cancel()
	ep.Close()
	m.wg.Wait()
	<-dispatched
	return m.fatalErr
}

// post runs f on the loop; it gives up when the master is stopping.
func (m *Master) post(f func()) {
	select {
	case m.tasks <- f:
	case <-m.ctx.Done():
	}
}

// call runs a request on the loop and waits for its answer; REST and
// in-process callers use it.
func (m *Master) call(ctx context.Context, body any) (any, error) {
	type result struct {
		v   any
		err error
	}
	ch := make(chan result, 1)
	r := request{body: body, reply: func(v any, err error) { ch <- result{v, err} }}
	select {
	case m.requests <- r:
	case <-m.stopped:
		return nil, errors.New("master: stopped")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case res := <-ch:
		return res.v, res.err
	case <-m.stopped:
		return nil, errors.New("master: stopped")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// publish sends an event to the bus. Loop-only.
func (m *Master) publish(e api.Event) {
	m.events.Publish(e)
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "nil"
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
