package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
)

const (
	// recheckEvery is how often submit --wait asks for the application's
	// status besides following events, so that an event lost in a
	// failover cannot leave it waiting forever.
	recheckEvery = 5 * time.Second
	// drainTimeout bounds how long output is still read after the
	// application has ended.
	drainTimeout = 10 * time.Second
)

var (
	// errEnded stops the event stream once the application has ended.
	errEnded = errors.New("application ended")
	// errRelaunched tells the log follower to follow the new id.
	errRelaunched = errors.New("application relaunched")
)

// waiter follows one submitted application for submit --wait: a goroutine
// copies its stdout while the caller follows the event stream. The id
// changes when a supervised application is relaunched under a new one.
type waiter struct {
	g   *Globals
	c   *client.Client
	out *lineWriter // stdout: output, and events in JSON mode

	mu         sync.Mutex
	id         string
	final      *api.AppInfo       // set once the application has ended
	last       api.AppState       // last state printed for id
	cancelLogs context.CancelFunc // ends the current log read (on relaunch)
	kick       chan struct{}      // capacity 1: a run may have started
}

// waitForApp follows the application until it ends and turns its outcome
// into alohactl's exit status.
func waitForApp(ctx context.Context, g *Globals, c *client.Client, id string) error {
	w := &waiter{g: g, c: c, out: &lineWriter{w: g.stdout}, id: id, kick: make(chan struct{}, 1)}
	if g.json() {
		if err := w.out.jsonLine(map[string]string{"id": id}); err != nil {
			return err
		}
	}
	info, err := w.run(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return &exitError{code: exitInterrupted, msg: fmt.Sprintf("stopped waiting; %s keeps running (alohactl kill %s stops it)", w.current(), w.current())}
		}
		return forApp(w.current(), err)
	}
	return outcome(info)
}

// outcome maps an ended application to alohactl's exit status.
func outcome(info *api.AppInfo) error {
	why := fmt.Sprintf("%s %s: %s", info.ID, info.State, info.Message)
	switch info.State {
	case api.AppFinished:
		return nil
	case api.AppFailed:
		if info.ExitCode != nil && *info.ExitCode > 0 && *info.ExitCode < 256 {
			return &exitError{code: *info.ExitCode, msg: why}
		}
		return &exitError{code: exitFailed, msg: why}
	case api.AppKilled:
		return &exitError{code: exitAppKilled, msg: why}
	}
	return &exitError{code: exitAppError, msg: why}
}

func (w *waiter) run(ctx context.Context) (*api.AppInfo, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	logsDone := make(chan error, 1)
	go func() { logsDone <- w.followLogs(ctx) }()
	eventsDone := make(chan error, 1)
	go func() {
		eventsDone <- w.c.Events(ctx, 0, true, func(e api.Event) error { return w.onEvent(ctx, e) })
	}()
	tick := time.NewTicker(recheckEvery)
	defer tick.Stop()
	for w.ended() == nil {
		select {
		case err := <-eventsDone:
			eventsDone = nil // from here on, the status checks alone
			if err != nil && !errors.Is(err, errEnded) {
				return nil, err
			}
		case <-tick.C:
			if err := w.check(ctx); err != nil && !isTransient(err) {
				return nil, err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// The application has ended: its output ends too, shortly.
	select {
	case <-logsDone:
	case <-time.After(drainTimeout):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return w.ended(), nil
}

func (w *waiter) current() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.id
}

func (w *waiter) ended() *api.AppInfo {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.final
}

// onEvent prints the events about the application and notices its end
// and relaunches.
func (w *waiter) onEvent(ctx context.Context, e api.Event) error {
	id := w.current()
	switch {
	case e.Type == api.EventAppStateChanged && e.AppID == id:
		w.printEvent(e)
		if e.State == api.AppRunning {
			w.nudge()
		}
		if e.State.IsFinal() {
			// A failed run may be restarted: ask whether it is over.
			if err := w.check(ctx); err != nil && !isTransient(err) {
				return err
			}
		}
	case e.Type == api.EventAppRelaunched && e.AppID == id:
		if w.g.json() { // on a terminal, the RELAUNCHING line said it
			w.printEvent(e)
		}
		w.switchTo(e.NewAppID)
	case e.Type == api.EventLagged || e.Type == api.EventLeaderChanged:
		if err := w.check(ctx); err != nil && !isTransient(err) {
			return err
		}
	}
	if w.ended() != nil {
		return errEnded
	}
	return nil
}

// check asks for the application's status: it records its end, and
// follows a relaunch that no event announced.
func (w *waiter) check(ctx context.Context) error {
	id := w.current()
	cctx, cancel := w.g.bounded(ctx)
	defer cancel()
	info, err := w.c.Status(cctx, id)
	if err != nil {
		return err
	}
	switch {
	case info.State == api.AppRelaunching && info.RelaunchedAs != "":
		w.switchTo(info.RelaunchedAs)
	case info.State.IsFinal():
		w.mu.Lock()
		missed := w.last != info.State && w.id == id
		if w.id == id {
			w.final = info
		}
		w.mu.Unlock()
		if missed {
			w.printEvent(api.Event{Type: api.EventAppStateChanged, Time: time.Now(), AppID: id, State: info.State, Message: info.Message})
		}
		w.nudge() // the log follower asks again at once
	}
	return nil
}

func (w *waiter) switchTo(id string) {
	w.mu.Lock()
	if w.id != id {
		w.id, w.last = id, ""
		if w.cancelLogs != nil {
			w.cancelLogs()
		}
	}
	w.mu.Unlock()
	w.nudge()
}

func (w *waiter) nudge() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// printEvent shows a state change: on stderr as a line, or on stdout as
// a JSON line.
func (w *waiter) printEvent(e api.Event) {
	w.mu.Lock()
	if e.Type == api.EventAppStateChanged {
		w.last = e.State
	}
	w.mu.Unlock()
	if w.g.json() {
		_ = w.out.jsonLine(e)
		return
	}
	fmt.Fprintln(w.g.stderr, stateLine(e, w.g.colorErr))
}

// followLogs copies the application's stdout, run after run: a restart
// on the same worker appends to the same file, so bytes already copied
// from a worker are skipped; a relaunch starts over under the new id.
func (w *waiter) followLogs(ctx context.Context) error {
	copied := map[string]int64{} // app id and worker address → bytes seen
	run, runOf := 0, ""
	for ctx.Err() == nil {
		id := w.current()
		if id != runOf {
			run, runOf = 0, id
		}
		info, err := w.nextRun(ctx, id, run)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue // relaunched, or a transient failure: look again
		}
		if info.Run <= run {
			return nil // ended without another run
		}
		run = info.Run
		lctx, cancel := context.WithCancel(ctx)
		w.mu.Lock()
		w.cancelLogs = cancel
		if w.id != id {
			cancel() // relaunched meanwhile
		}
		w.mu.Unlock()
		key := id + "@" + info.WorkerAddr
		sink, closeSink := w.sink(id)
		skip := &skipWriter{w: sink, skip: copied[key]}
		_ = w.c.Logs(lctx, id, client.LogOptions{Follow: true}, skip)
		cancel()
		_ = closeSink()
		copied[key] = max(copied[key], skip.seen)
		if info.State.IsFinal() || w.ended() != nil {
			return nil
		}
	}
	return ctx.Err()
}

// sink is where the output of id goes: stdout as it is, or JSON lines.
func (w *waiter) sink(id string) (io.Writer, func() error) {
	if !w.g.json() {
		return w.out, func() error { return nil }
	}
	j := &jsonLines{out: w.out, appID: id, stream: string(api.Stdout)}
	return j, j.Close
}

// nextRun waits until the application id has a run newer than run that is
// running or over, or has ended without one.
func (w *waiter) nextRun(ctx context.Context, id string, run int) (*api.AppInfo, error) {
	for {
		cctx, cancel := w.g.bounded(ctx)
		info, err := w.c.Status(cctx, id)
		cancel()
		if err == nil {
			if info.State == api.AppRelaunching && info.RelaunchedAs != "" {
				w.switchTo(info.RelaunchedAs)
				return nil, errRelaunched
			}
			if info.Run > run && (info.State == api.AppRunning || info.State.IsFinal()) {
				return info, nil
			}
			if info.State.IsFinal() {
				return info, nil
			}
		} else if !isTransient(err) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w.kick:
		case <-time.After(time.Second):
		}
		if w.current() != id {
			return nil, errRelaunched
		}
	}
}

// isTransient says whether a failed status query is worth repeating.
func isTransient(err error) bool { return !isClusterAnswer(err) }

// skipWriter drops the first skip bytes written to it (already copied)
// and counts everything it saw.
type skipWriter struct {
	w    io.Writer
	skip int64
	seen int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	n := len(p)
	start := s.seen
	s.seen += int64(n)
	if s.seen <= s.skip {
		return n, nil
	}
	if start < s.skip {
		p = p[s.skip-start:]
	}
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}
