package tui

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// fakeSource is a cluster in memory. Calls fail with err when it is set.
type fakeSource struct {
	mu      sync.Mutex
	apps    []api.AppInfo
	workers []api.WorkerInfo
	master  api.MasterInfo
	backlog []api.Event       // what Events returns without follow
	follow  chan api.Event    // what it follows; closing it ends the stream
	logs    map[string]string // appID/stream → output
	killErr error
	err     error

	lists   int
	killed  []string
	status  []string
	streams []api.LogStream
}

func (f *fakeSource) fail() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *fakeSource) List(ctx context.Context, req api.ListAppsRequest) ([]api.AppInfo, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	return append([]api.AppInfo(nil), f.apps...), nil
}

func (f *fakeSource) Workers(ctx context.Context) ([]api.WorkerInfo, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.WorkerInfo(nil), f.workers...), nil
}

func (f *fakeSource) MasterInfo(ctx context.Context) (*api.MasterInfo, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.master
	return &m, nil
}

func (f *fakeSource) Status(ctx context.Context, id string) (*api.AppInfo, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = append(f.status, id)
	for _, a := range f.apps {
		if a.ID == id {
			return &a, nil
		}
	}
	return nil, fmt.Errorf("application %s: %w", id, client.ErrNotFound)
}

func (f *fakeSource) Kill(ctx context.Context, id string) (*api.KillAppResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.killed = append(f.killed, id)
	if f.killErr != nil {
		return nil, f.killErr
	}
	return &api.KillAppResponse{AppID: id, State: api.AppRunning, Message: "Kill request for " + id + " submitted"}, nil
}

// Logs writes the output it has in two writes, then returns: the
// application has ended.
func (f *fakeSource) Logs(ctx context.Context, id string, opts client.LogOptions, w io.Writer) error {
	f.mu.Lock()
	f.streams = append(f.streams, opts.Stream)
	out := f.logs[id+"/"+string(opts.Stream)]
	f.mu.Unlock()
	half := len(out) / 2
	for _, p := range []string{out[:half], out[half:]} {
		if _, err := w.Write([]byte(p)); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSource) Events(ctx context.Context, after uint64, follow bool, fn func(api.Event) error) error {
	if err := f.fail(); err != nil {
		return err
	}
	if !follow {
		for _, e := range f.backlog {
			if e.Seq > after {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for {
		select {
		case e, ok := <-f.follow:
			if !ok {
				return nil
			}
			if err := fn(e); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// t0 is the fixed clock of the tests.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// newTestModel returns a model on src, drawn without colour on an 140×40
// screen, with the clock at t0.
func newTestModel(t testing.TB, src Source) *Model {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(ctx, src, Options{Now: func() time.Time { return t0 }}, lipgloss.NewRenderer(io.Discard), false, true)
	m.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
	return m
}

// app returns an application submitted ago before t0, in state.
func app(n int, name string, state api.AppState, worker string, ago time.Duration) api.AppInfo {
	at := t0.Add(-ago)
	a := api.AppInfo{
		ID:    fmt.Sprintf("app-20250601115000-%04d", n),
		Spec:  api.AppSpec{Name: name, EntryPoint: "shell", Args: "run " + name, Cores: 1 + n%3, Memory: 512 * (1 + n%4)},
		State: state, SubmittedAt: at, History: []api.StateChange{{State: state, Message: "m", Time: at}},
	}
	if worker != "" {
		a.WorkerID, a.WorkerAddr = "worker-"+worker, worker
		a.StartedAt = at
	}
	if state.IsFinal() {
		a.EndedAt = at.Add(time.Second)
	}
	return a
}

// sampleCluster is three applications on two workers.
func sampleCluster() *fakeSource {
	return &fakeSource{
		apps: []api.AppInfo{
			app(3, "sleeper", api.AppRunning, "10.0.0.2:7078", time.Minute),
			app(2, "failer", api.AppFailed, "10.0.0.1:7078", 2*time.Minute),
			app(1, "greeter", api.AppFinished, "10.0.0.1:7078", 3*time.Minute),
		},
		workers: []api.WorkerInfo{
			{ID: "worker-10.0.0.1:7078", Addr: "10.0.0.1:7078", State: api.WorkerAlive, Cores: 4, Memory: 4096, LastHeartbeat: t0},
			{ID: "worker-10.0.0.2:7078", Addr: "10.0.0.2:7078", State: api.WorkerAlive, Cores: 4, CoresUsed: 1, Memory: 4096, MemoryUsed: 512, Apps: []string{"x"}, LastHeartbeat: t0},
		},
		master: api.MasterInfo{URL: "aloha://m1:7077", Leader: "aloha://m1:7077", State: api.MasterAlive, Epoch: 7,
			AliveWorkers: 2, Cores: 8, CoresUsed: 1, Memory: 8192, MemoryUsed: 512},
		logs: map[string]string{},
	}
}

// loaded returns a model that has loaded src's snapshot.
func loaded(t testing.TB, src *fakeSource) *Model {
	t.Helper()
	m := newTestModel(t, src)
	drive(t, m, func() tea.Msg { return backlogMsg{gen: m.pumpGen} })
	return m
}

// drive runs cmd and every command the model answers its messages with,
// feeding each message to the model, until none is left. Commands run
// concurrently, as in a program; it fails the test if they hang.
func drive(t testing.TB, m *Model, cmd tea.Cmd) []tea.Msg {
	t.Helper()
	var seen []tea.Msg
	pending := []tea.Cmd{cmd}
	for len(pending) > 0 {
		msgs := runCmds(t, pending)
		pending = nil
		for _, msg := range msgs {
			seen = append(seen, msg)
			_, next := m.Update(msg)
			if next != nil {
				pending = append(pending, next)
			}
		}
	}
	return seen
}

// runCmds runs commands, expanding batches and sequences, and returns
// their messages.
func runCmds(t testing.TB, cmds []tea.Cmd) []tea.Msg {
	t.Helper()
	var out []tea.Msg
	for len(cmds) > 0 {
		results := make([]chan tea.Msg, len(cmds))
		for i, c := range cmds {
			results[i] = make(chan tea.Msg, 1)
			go func() { results[i] <- c() }()
		}
		cmds = nil
		for _, ch := range results {
			select {
			case msg := <-ch:
				if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeFor[tea.Cmd]() {
					for i := range v.Len() {
						if c := v.Index(i).Interface().(tea.Cmd); c != nil {
							cmds = append(cmds, c)
						}
					}
				} else if msg != nil {
					out = append(out, msg)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("a command did not return within 10 s")
			}
		}
	}
	return out
}

// press sends keys to the model: names like "enter", "ctrl+k", or text.
func press(m *Model, keys ...string) tea.Cmd {
	var cmds []tea.Cmd
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func keyMsg(k string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
		"ctrl+k": tea.KeyCtrlK, "ctrl+c": tea.KeyCtrlC, "backspace": tea.KeyBackspace, "home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if t, ok := named[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	if k == " " {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}
