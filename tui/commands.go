package tui

import (
	"context"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
	tea "github.com/charmbracelet/bubbletea"
)

// The commands below are the only code that talks to the cluster. Each
// returns a typed message; the model never blocks.

const (
	// pumpBuffer is how many events may wait between the event reader
	// and the model: a second of a very busy cluster. A full buffer slows
	// the reader, and the leader reports what it then missed as Lagged.
	pumpBuffer = 4096
	// maxBatch is the most events one message carries, so that one
	// Update stays short even when the stream bursts.
	maxBatch = 2000
	// backlogKept is how many events from before the UI started are shown
	// in the events view.
	backlogKept = 500
	// logBuffer is how many writes of output may wait for the model.
	logBuffer = 16
	// logChunk is the size of the client's log reads (client.Logs): a
	// shorter write means the reader has caught up with the file.
	logChunk = 256 << 10
)

type (
	// pumpItem is what the event reader hands the model: one event, or a
	// message (backlogMsg, streamEndMsg).
	pumpItem struct {
		ev  api.Event
		msg tea.Msg
	}
	// backlogMsg says the event reader has caught up with the leader's
	// buffer; events are the latest of it, for the events view.
	backlogMsg struct {
		gen    int
		events []api.Event
	}
	// eventsMsg carries followed events, then possibly a message that
	// came after them.
	eventsMsg struct {
		gen    int
		events []api.Event
		then   tea.Msg
	}
	// streamEndMsg says the event reader stopped.
	streamEndMsg struct {
		gen int
		err error
	}
	snapshotMsg struct {
		gen     int
		apps    []api.AppInfo
		workers []api.WorkerInfo
		master  *api.MasterInfo
		err     error
	}
	refreshMsg struct {
		master  *api.MasterInfo
		workers []api.WorkerInfo
		err     error
	}
	appMsg struct {
		id   string
		info *api.AppInfo
		err  error
	}
	killMsg struct {
		id   string
		resp *api.KillAppResponse
		err  error
	}
	logMsg struct {
		gen   int
		lines []logLine
	}
	logEndMsg struct {
		gen int
		err error
	}
	tickMsg time.Time
)

// pumpEvents reads the leader's event buffer to its end (the newest
// backlogKept events are shown), says so, then follows the stream from
// there, across failovers, until ctx ends.
func pumpEvents(ctx context.Context, src Source, gen int, ch chan<- pumpItem) tea.Cmd {
	return func() tea.Msg {
		defer close(ch)
		send := func(it pumpItem) error {
			select {
			case ch <- it:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		var backlog []api.Event
		var head uint64
		err := src.Events(ctx, 0, false, func(e api.Event) error {
			head = e.Seq
			if e.Type == api.EventLagged {
				return nil
			}
			backlog = append(backlog, e)
			if len(backlog) >= 2*backlogKept {
				backlog = append(backlog[:0], backlog[len(backlog)-backlogKept:]...)
			}
			return nil
		})
		if err == nil {
			if len(backlog) > backlogKept {
				backlog = backlog[len(backlog)-backlogKept:]
			}
			if err = send(pumpItem{msg: backlogMsg{gen: gen, events: backlog}}); err == nil {
				err = src.Events(ctx, head, true, func(e api.Event) error { return send(pumpItem{ev: e}) })
			}
		}
		_ = send(pumpItem{msg: streamEndMsg{gen: gen, err: err}})
		return nil
	}
}

// nextEvents waits for the event reader's next item and returns it with
// every event already waiting behind it, up to maxBatch.
func nextEvents(ch <-chan pumpItem, gen int) tea.Cmd {
	return func() tea.Msg {
		it, ok := <-ch
		if !ok {
			return streamEndMsg{gen: gen, err: context.Canceled}
		}
		if it.msg != nil {
			return it.msg
		}
		batch := eventsMsg{gen: gen, events: []api.Event{it.ev}}
		for len(batch.events) < maxBatch {
			select {
			case it, ok := <-ch:
				if !ok {
					batch.then = streamEndMsg{gen: gen, err: context.Canceled}
					return batch
				}
				if it.msg != nil {
					batch.then = it.msg
					return batch
				}
				batch.events = append(batch.events, it.ev)
			default:
				return batch
			}
		}
		return batch
	}
}

// loadSnapshot loads every application the master lists (at most
// 10,000, newest first), the workers and the leader's view.
func loadSnapshot(ctx context.Context, src Source, gen int, timeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		m := snapshotMsg{gen: gen}
		if m.master, m.err = src.MasterInfo(ctx); m.err != nil {
			return m
		}
		if m.apps, m.err = src.List(ctx, api.ListAppsRequest{}); m.err != nil {
			return m
		}
		m.workers, m.err = src.Workers(ctx)
		return m
	}
}

// refresh reads the leader's view and the workers: the header's totals
// and the workers' resources.
func refresh(ctx context.Context, src Source, timeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var m refreshMsg
		if m.master, m.err = src.MasterInfo(ctx); m.err != nil {
			return m
		}
		m.workers, m.err = src.Workers(ctx)
		return m
	}
}

// fetchApp reads one application.
func fetchApp(ctx context.Context, src Source, id string, timeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		info, err := src.Status(ctx, id)
		return appMsg{id: id, info: info, err: err}
	}
}

// kill asks the leader to kill an application.
func kill(ctx context.Context, src Source, id string, timeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		resp, err := src.Kill(ctx, id)
		return killMsg{id: id, resp: resp, err: err}
	}
}

// readLogs follows an application's output until it ends or ctx does,
// handing it to the model line by line through ch (see nextLog). Lines
// written before the reader caught up with the file carry no arrival
// time.
func readLogs(ctx context.Context, src Source, gen int, id string, stream api.LogStream, now func() time.Time, ch chan<- tea.Msg) tea.Cmd {
	return func() tea.Msg {
		defer close(ch)
		w := &logWriter{ctx: ctx, gen: gen, ch: ch, now: now, start: now()}
		err := src.Logs(ctx, id, client.LogOptions{Stream: stream, Follow: true}, w)
		if ctx.Err() != nil {
			return nil
		}
		if rest := w.sp.flush(w.stamp()); len(rest) > 0 {
			_ = w.send(logMsg{gen: gen, lines: rest})
		}
		_ = w.send(logEndMsg{gen: gen, err: err})
		return nil
	}
}

// logWriter is the io.Writer client.Logs writes to.
type logWriter struct {
	ctx      context.Context
	gen      int
	ch       chan<- tea.Msg
	now      func() time.Time
	start    time.Time
	sp       splitter
	caughtUp bool
}

func (w *logWriter) stamp() time.Time {
	if w.caughtUp {
		return w.now()
	}
	return time.Time{}
}

func (w *logWriter) Write(p []byte) (int, error) {
	at := w.stamp()
	if len(p) < logChunk || w.now().Sub(w.start) > time.Second {
		w.caughtUp = true
	}
	if lines := w.sp.write(p, at); len(lines) > 0 {
		if err := w.send(logMsg{gen: w.gen, lines: lines}); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (w *logWriter) send(m tea.Msg) error {
	select {
	case w.ch <- m:
		return nil
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
}

// nextLog waits for the log reader's next message.
func nextLog(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return nil
		}
		return m
	}
}

// tick wakes the model every second: ages move, the refresh falls due.
func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}
