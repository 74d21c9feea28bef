package tui

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// The benchmarks measure the model with 10,000 applications and 1,000
// workers against one frame at 60 Hz: each reports ms/op and
// budget-ratio, the share of the 16 ms frame one operation takes.
const (
	benchApps    = 10_000
	benchWorkers = 1_000
	frameBudget  = 16 * time.Millisecond
)

var benchStates = []api.AppState{api.AppRunning, api.AppRunning, api.AppFinished, api.AppFailed, api.AppSubmitted, api.AppKilled}

// benchModel returns a model that loaded the cluster, drawn in true
// colour on a 200×60 screen.
func benchModel(b *testing.B) *Model {
	b.Helper()
	src := &fakeSource{}
	for i := range benchWorkers {
		addr := fmt.Sprintf("10.0.%d.%d:7078", i/250, i%250)
		src.workers = append(src.workers, api.WorkerInfo{ID: "worker-" + addr, Addr: addr, State: api.WorkerAlive,
			Cores: 16, CoresUsed: i % 16, Memory: 65536, MemoryUsed: 1024 * (i % 64), LastHeartbeat: t0, RegisteredAt: t0.Add(-time.Hour)})
	}
	for i := range benchApps {
		a := app(i, fmt.Sprintf("job-%d", i), benchStates[i%len(benchStates)], src.workers[i%benchWorkers].Addr, time.Duration(benchApps-i)*time.Second)
		a.ID = fmt.Sprintf("app-20250601100000-%05d", i)
		src.apps = append(src.apps, a)
	}
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	// MaxApps holds the model at 10,000 applications however many new
	// ones a benchmark adds: the longest-ended make room.
	m := New(b.Context(), src, Options{Now: func() time.Time { return t0 }, MaxApps: benchApps}, r, true, true)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	m.Update(snapshotMsg{gen: m.snapGen, apps: src.apps, workers: src.workers,
		master: &api.MasterInfo{URL: "aloha://m1:7077", Leader: "aloha://m1:7077", State: api.MasterAlive, Epoch: 7}})
	for i := range 2000 {
		m.events.add(appEvent(i, src.apps[i].ID, api.AppRunning))
	}
	m.View()
	return m
}

func reportFrame(b *testing.B) {
	ms := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / 1e6
	b.ReportMetric(ms, "ms/op")
	b.ReportMetric(ms/float64(frameBudget.Milliseconds()), "budget-ratio")
}

// BenchmarkApplyEvent is the time to apply one event: Update with it and
// the upkeep of the table's index it causes (drawing is BenchmarkRender).
func BenchmarkApplyEvent(b *testing.B) {
	for _, bc := range []struct {
		name  string
		setup func(m *Model)
		event func(m *Model, i int) api.Event
	}{
		{"state-change", nil, stateChange},
		{"state-change-sorted-by-state", func(m *Model) { press(m, "S") }, stateChange},
		{"state-change-filtered", func(m *Model) { press(m, "/", "job-1", "enter") }, stateChange},
		{"new-app", nil, func(m *Model, i int) api.Event {
			return api.Event{Type: api.EventAppStateChanged, AppID: fmt.Sprintf("app-20250601130000-%07d", i), State: api.AppSubmitted, Time: t0.Add(time.Duration(i))}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := benchModel(b)
			if bc.setup != nil {
				bc.setup(m)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				m.Update(eventsMsg{gen: m.pumpGen, events: []api.Event{bc.event(m, i)}})
				m.apps.ensure()
			}
			reportFrame(b)
		})
	}
}

// stateChange moves an application between RUNNING and FINISHED.
func stateChange(m *Model, i int) api.Event {
	st := api.AppRunning
	if i%2 == 0 {
		st = api.AppFinished
	}
	return api.Event{Type: api.EventAppStateChanged, AppID: fmt.Sprintf("app-20250601100000-%05d", (i*7919)%benchApps), State: st,
		Message: "changed", Time: t0.Add(time.Duration(i) * time.Millisecond)}
}

// BenchmarkRender is the time to draw one frame.
func BenchmarkRender(b *testing.B) {
	for _, bc := range []struct {
		name  string
		setup func(m *Model)
	}{
		{"apps", nil},
		{"apps-80-columns", func(m *Model) { m.Update(tea.WindowSizeMsg{Width: 80, Height: 24}) }},
		{"workers", func(m *Model) { press(m, "2") }},
		{"events", func(m *Model) { press(m, "3") }},
		{"logs-wrapped", func(m *Model) {
			drive(b, m, press(m, "l"))
			var lines []logLine
			for i := range m.opts.LogLines + 5000 {
				lines = append(lines, logLine{text: fmt.Sprintf("%d %s", i, strings.Repeat("log text ", 40)), at: t0})
			}
			m.detail.logs.add(lines)
			press(m, "w", "t")
		}},
		{"help-overlay", func(m *Model) { press(m, "?") }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := benchModel(b)
			if bc.setup != nil {
				bc.setup(m)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = m.View()
			}
			reportFrame(b)
		})
	}
}

// BenchmarkKeyToFrame is the time from a key press to the next frame:
// Update with the key, then View.
func BenchmarkKeyToFrame(b *testing.B) {
	for _, bc := range []struct {
		name  string
		setup func(m *Model)
		keys  []string // pressed in turn
	}{
		{"move", nil, []string{"j", "j", "k"}},
		{"page", nil, []string{"pgdown", "pgdown", "pgup", "pgup"}},
		{"sort", nil, []string{"N"}},
		{"filter-typing", func(m *Model) { press(m, "/") }, []string{"1", "backspace"}},
		{"switch-view", nil, []string{"2", "1"}},
		{"help", nil, []string{"?", "x"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := benchModel(b)
			if bc.setup != nil {
				bc.setup(m)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.Update(keyMsg(bc.keys[i%len(bc.keys)]))
				_ = m.View()
				i++
			}
			reportFrame(b)
		})
	}
}
