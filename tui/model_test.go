package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// rows returns the table rows of the screen: the lines that hold an
// application id, in order.
func rows(view string) []string {
	var out []string
	for _, l := range strings.Split(view, "\n") {
		if strings.Contains(l, "app-2025") && !strings.Contains(l, "Detail app-") {
			out = append(out, l)
		}
	}
	return out
}

func wantOrder(t *testing.T, view string, names ...string) {
	t.Helper()
	got := rows(view)
	if len(got) != len(names) {
		t.Fatalf("screen has %d rows, want %d (%v):\n%s", len(got), len(names), names, view)
	}
	for i, n := range names {
		if !strings.Contains(got[i], " "+n+" ") {
			t.Errorf("row %d = %q, want %s:\n%s", i, got[i], n, view)
		}
	}
}

func TestAppsViewShowsTheSnapshotNewestFirst(t *testing.T) {
	m := loaded(t, sampleCluster())
	v := m.View()
	wantOrder(t, v, "sleeper", "failer", "greeter")
	for _, want := range []string{
		"leader aloha://m1:7077 ALIVE epoch 7", "● connected", "workers 2 alive", "cores 1/8", "memory 512M/8.0G",
		"1 running · 0 waiting · 1 failed in the last hour", "[1 Apps]", "Apps [3]",
		"ID", "NAME", "KIND", "STATE", "WORKER", "CORES", "MEMORY", "AGE", "DURATION", "RESTARTS",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("apps view lacks %q:\n%s", want, v)
		}
	}
	if first := rows(v)[0]; !strings.HasPrefix(first, "> ") || !strings.Contains(first, "RUNNING") || !strings.Contains(first, "10.0.0.2:7078") {
		t.Errorf("first row = %q, want the selected running sleeper on 10.0.0.2:7078", first)
	}
}

func TestEventsChangeTheApps(t *testing.T) {
	src := sampleCluster()
	m := loaded(t, src)
	ev := func(e api.Event) []tea.Msg {
		return drive(t, m, func() tea.Msg { return eventsMsg{gen: m.pumpGen, events: []api.Event{e}} })
	}
	ev(api.Event{Type: api.EventAppStateChanged, AppID: "app-20250601115000-0003", State: api.AppKilled, Message: "killed", Time: t0})
	if r := rows(m.View())[0]; !strings.Contains(r, "KILLED") {
		t.Errorf("after a KILLED event the sleeper's row = %q", r)
	}
	// An application the snapshot did not have shows at once and is then
	// fetched with Status.
	src.apps = append(src.apps, app(4, "late", api.AppSubmitted, "", 0))
	ev(api.Event{Type: api.EventAppStateChanged, AppID: "app-20250601115000-0004", State: api.AppSubmitted, Time: t0})
	if len(src.status) != 1 || src.status[0] != "app-20250601115000-0004" {
		t.Errorf("Status calls = %v, want the new app", src.status)
	}
	wantOrder(t, m.View(), "late", "sleeper", "failer", "greeter")
	// An older change than the one known is not applied.
	ev(api.Event{Type: api.EventAppStateChanged, AppID: "app-20250601115000-0003", State: api.AppRunning, Time: t0.Add(-time.Second)})
	if r := rows(m.View())[1]; !strings.Contains(r, "KILLED") {
		t.Errorf("a stale event changed the row: %q", r)
	}
	// A worker that leaves shows as DEAD at once (the refresh it asks
	// for is not run here).
	_, refresh := m.Update(eventsMsg{gen: m.pumpGen, events: []api.Event{{Type: api.EventWorkerLost, WorkerID: "worker-10.0.0.1:7078", Time: t0}}})
	if refresh == nil {
		t.Errorf("WorkerLost asked for no refresh of the workers")
	}
	press(m, "2")
	if v := m.View(); !strings.Contains(v, "DEAD") {
		t.Errorf("workers view after WorkerLost lacks DEAD:\n%s", v)
	}
}

// Events that arrive while a snapshot loads are replayed on it.
func TestEventsWhileLoadingAreReplayed(t *testing.T) {
	src := sampleCluster()
	m := newTestModel(t, src)
	_, load := m.Update(backlogMsg{gen: m.pumpGen})
	if !m.loading || load == nil {
		t.Fatalf("the backlog did not start a snapshot load")
	}
	m.Update(eventsMsg{gen: m.pumpGen, events: []api.Event{
		{Type: api.EventAppStateChanged, AppID: "app-20250601115000-0003", State: api.AppFinished, Time: t0},
		// Older than the snapshot's history: skipped.
		{Type: api.EventAppStateChanged, AppID: "app-20250601115000-0001", State: api.AppRunning, Time: t0.Add(-time.Hour)},
	}})
	if v := m.View(); !strings.Contains(v, "loading…") {
		t.Errorf("while loading the apps view says:\n%s", v)
	}
	drive(t, m, load)
	v := m.View()
	r := rows(v)
	if len(r) != 3 || !strings.Contains(r[0], "FINISHED") || !strings.Contains(r[2], "FINISHED") {
		t.Errorf("after the snapshot:\n%s", v)
	}
}

func TestLeaderChangeAndLagReload(t *testing.T) {
	for _, e := range []api.Event{
		{Type: api.EventLeaderChanged, Leader: "aloha://m2:7077", Epoch: 8},
		{Type: api.EventLagged, Dropped: 12},
	} {
		src := sampleCluster()
		m := loaded(t, src)
		src.apps = src.apps[:1]
		drive(t, m, func() tea.Msg { return eventsMsg{gen: m.pumpGen, events: []api.Event{e}} })
		if src.lists != 2 {
			t.Errorf("%s: List called %d times, want a reload", e.Type, src.lists)
		}
		wantOrder(t, m.View(), "sleeper")
	}
}

func TestReconnect(t *testing.T) {
	src := sampleCluster()
	m := loaded(t, src)
	down := &client.UnreachableError{Masters: []string{"aloha://m1:7077"}}
	m.Update(refreshMsg{err: down})
	v := m.View()
	if !strings.Contains(v, "⟳ reconnecting") || !strings.Contains(v, "no master reachable at aloha://m1:7077") {
		t.Errorf("after a failed refresh the screen says:\n%s", v)
	}
	if len(rows(v)) != 3 {
		t.Errorf("the apps stay on screen while reconnecting:\n%s", v)
	}
	// The leader answers again, under a new epoch: the data is reloaded.
	src.master.Epoch = 9
	src.apps = src.apps[1:]
	info, _ := src.MasterInfo(t.Context())
	drive(t, m, func() tea.Msg { return refreshMsg{master: info, workers: src.workers} })
	v = m.View()
	if !strings.Contains(v, "● connected") || !strings.Contains(v, "epoch 9") || src.lists != 2 {
		t.Errorf("after reconnecting (lists %d):\n%s", src.lists, v)
	}
	wantOrder(t, v, "failer", "greeter")
}

func TestStreamEndRestartsTheReader(t *testing.T) {
	m := loaded(t, sampleCluster())
	gen := m.pumpGen
	m.Update(streamEndMsg{gen: gen, err: client.ErrUnauthenticated})
	if v := m.View(); !strings.Contains(v, "authentication failed") {
		t.Errorf("after the stream failed:\n%s", v)
	}
	now := t0.Add(time.Minute)
	m.now = func() time.Time { return now }
	_, cmd := m.Update(tickMsg(now))
	m.pumpCancel() // the new reader would follow forever
	if m.pumpGen != gen+1 || cmd == nil {
		t.Errorf("a tick after the retry time started no reader (gen %d → %d)", gen, m.pumpGen)
	}
}

func TestFilter(t *testing.T) {
	m := loaded(t, sampleCluster())
	press(m, "/", "s", "l", "e")
	v := m.View()
	wantOrder(t, v, "sleeper")
	if !strings.Contains(v, "[1 of 3]") || !strings.Contains(v, "/sle") {
		t.Errorf("filtering, the title says:\n%s", v)
	}
	press(m, "backspace", "backspace", "backspace", "enter")
	wantOrder(t, m.View(), "sleeper", "failer", "greeter")
	// Any column: the worker, the state.
	for f, want := range map[string][]string{"10.0.0.1": {"failer", "greeter"}, "failed": {"failer"}, "nothing": nil} {
		press(m, "/", f, "enter")
		if want == nil {
			if v := m.View(); !strings.Contains(v, "nothing matches /nothing") {
				t.Errorf("filter %q:\n%s", f, v)
			}
		} else {
			wantOrder(t, m.View(), want...)
		}
		press(m, "esc") // clears it
		wantOrder(t, m.View(), "sleeper", "failer", "greeter")
	}
	// esc while typing clears too.
	press(m, "/", "gre", "esc")
	wantOrder(t, m.View(), "sleeper", "failer", "greeter")
}

func TestSort(t *testing.T) {
	m := loaded(t, sampleCluster())
	press(m, "N")
	v := m.View()
	wantOrder(t, v, "failer", "greeter", "sleeper")
	if !strings.Contains(v, "NAME↑") || !strings.Contains(v, "sorted by NAME↑") {
		t.Errorf("sorted by name, the header says:\n%s", v)
	}
	press(m, "N")
	wantOrder(t, m.View(), "sleeper", "greeter", "failer")
	press(m, "S") // states: FAILED, FINISHED, RUNNING
	wantOrder(t, m.View(), "failer", "greeter", "sleeper")
	press(m, "A") // age: newest first
	wantOrder(t, m.View(), "sleeper", "failer", "greeter")
	// A state change re-sorts a table sorted by state.
	press(m, "S")
	drive(t, m, func() tea.Msg {
		return eventsMsg{gen: m.pumpGen, events: []api.Event{{Type: api.EventAppStateChanged, AppID: "app-20250601115000-0003", State: api.AppError, Time: t0}}}
	})
	wantOrder(t, m.View(), "sleeper", "failer", "greeter")
}

func TestKillAfterConfirmation(t *testing.T) {
	src := sampleCluster()
	m := loaded(t, src)
	if cmd := press(m, "ctrl+k"); cmd != nil {
		t.Errorf("ctrl+k issued a command before the confirmation")
	}
	v := m.View()
	for _, want := range []string{"Kill application app-20250601115000-0003?", "sleeper", "10.0.0.2:7078", "[ Cancel ]"} {
		if !strings.Contains(v, want) {
			t.Errorf("the dialog lacks %q:\n%s", want, v)
		}
	}
	if cmd := press(m, "j", "x"); cmd != nil || len(src.killed) != 0 || m.confirm == nil {
		t.Errorf("other keys act while the dialog is open")
	}
	drive(t, m, press(m, "y"))
	if len(src.killed) != 1 || src.killed[0] != "app-20250601115000-0003" {
		t.Fatalf("killed %v, want the selected sleeper", src.killed)
	}
	if v := m.View(); !strings.Contains(v, "kill of app-20250601115000-0003 requested") || strings.Contains(v, "Kill application") {
		t.Errorf("after y:\n%s", v)
	}
	// tab then enter presses Kill.
	drive(t, m, press(m, "ctrl+k", "tab", "enter"))
	if len(src.killed) != 2 {
		t.Errorf("tab, enter killed %v", src.killed)
	}
}

func TestKillCancelled(t *testing.T) {
	for _, keys := range [][]string{{"n"}, {"esc"}, {"enter"}, {"tab", "tab", "enter"}} {
		src := sampleCluster()
		m := loaded(t, src)
		press(m, "ctrl+k")
		if cmd := press(m, keys...); cmd != nil || m.confirm != nil || len(src.killed) != 0 {
			t.Errorf("%v: dialog open %v, killed %v", keys, m.confirm != nil, src.killed)
		}
		if v := m.View(); !strings.Contains(v, "kill of app-20250601115000-0003 cancelled") {
			t.Errorf("%v:\n%s", keys, v)
		}
	}
}

func TestKillRefusedAndEndedApps(t *testing.T) {
	src := sampleCluster()
	src.killErr = &client.RefusedError{Reason: "application app-20250601115000-0003 already ended (FINISHED)"}
	m := loaded(t, src)
	drive(t, m, press(m, "ctrl+k", "y"))
	if v := m.View(); !strings.Contains(v, "✗ kill refused: application app-20250601115000-0003 already ended") {
		t.Errorf("a refused kill shows:\n%s", v)
	}
	press(m, "j", "ctrl+k") // the failed app
	if m.confirm != nil || !strings.Contains(m.View(), "cannot kill app-20250601115000-0002: it already ended (FAILED)") {
		t.Errorf("ctrl+k on an ended app:\n%s", m.View())
	}
}

func TestViewSwitchesAndCommands(t *testing.T) {
	m := loaded(t, sampleCluster())
	for _, tc := range []struct {
		keys []string
		want string
	}{
		{[]string{"2"}, "[2 Workers]"},
		{[]string{"3"}, "[3 Events]"},
		{[]string{"1"}, "[1 Apps]"},
		{[]string{"tab"}, "[2 Workers]"},
		{[]string{"shift+tab"}, "[1 Apps]"},
		{[]string{":", "w", "o", "tab", "enter"}, "[2 Workers]"},
		{[]string{":", "ev", "enter"}, "[3 Events]"},
		{[]string{"esc"}, "[2 Workers]"}, // back
		{[]string{":", "apps", "enter"}, "[1 Apps]"},
		{[]string{":", "nope", "enter"}, "unknown command :nope"},
	} {
		press(m, tc.keys...)
		if v := m.View(); !strings.Contains(v, tc.want) {
			t.Errorf("after %q the screen lacks %q:\n%s", tc.keys, tc.want, v)
		}
	}
	press(m, ":", "wor")
	if v := m.View(); !strings.Contains(v, ":wor") || !strings.Contains(v, "kers") {
		t.Errorf("the command line does not complete :wor:\n%s", v)
	}
	press(m, "esc")
	for _, keys := range [][]string{{"q"}, {":", "q", "enter"}, {"ctrl+c"}} {
		cmd := press(m, keys...)
		if cmd == nil {
			t.Fatalf("%q issued no command", keys)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%q did not quit", keys)
		}
	}
}

func TestHelpOverlayListsTheViewsKeys(t *testing.T) {
	m := loaded(t, sampleCluster())
	press(m, "?")
	v := m.View()
	for _, want := range []string{"Keys: Apps view", "ctrl+k", "kill", "shift+N", "sort by NAME", "/", "filter", "enter", "l", "logs", "q", "quit"} {
		if !strings.Contains(v, want) {
			t.Errorf("apps help lacks %q:\n%s", want, v)
		}
	}
	press(m, "x")
	if m.showHelp {
		t.Errorf("a key did not close the help")
	}
	press(m, "enter", "?")
	for _, want := range []string{"Keys: Detail view", "timestamps", "wrap", "autoscroll", "stdout / stderr"} {
		if v := m.View(); !strings.Contains(v, want) {
			t.Errorf("detail help lacks %q:\n%s", want, v)
		}
	}
}

func TestNarrowScreensDropTheLeastImportantColumns(t *testing.T) {
	m := loaded(t, sampleCluster())
	for _, tc := range []struct {
		width      int
		want, lose []string
	}{
		{160, []string{"ID", "NAME", "KIND", "STATE", "WORKER", "CORES", "MEMORY", "AGE", "DURATION", "RESTARTS"}, nil},
		{80, []string{"ID", "NAME", "STATE", "AGE", "WORKER"}, []string{"DURATION", "RESTARTS", "MEMORY"}},
		{50, []string{"ID", "STATE"}, []string{"WORKER", "KIND"}},
	} {
		m.Update(tea.WindowSizeMsg{Width: tc.width, Height: 30})
		v := m.View()
		var hdr string
		for _, l := range strings.Split(v, "\n") {
			if strings.HasPrefix(l, "  ID") {
				hdr = l
			}
			if w := ansi.StringWidth(l); w > tc.width {
				t.Errorf("width %d: a line is %d wide: %q", tc.width, w, l)
			}
		}
		for _, c := range tc.want {
			if !strings.Contains(hdr, c) {
				t.Errorf("width %d: header %q lacks %s", tc.width, hdr, c)
			}
		}
		for _, c := range tc.lose {
			if strings.Contains(hdr, c) {
				t.Errorf("width %d: header %q keeps %s", tc.width, hdr, c)
			}
		}
		if n := strings.Count(v, "\n") + 1; n != 30 {
			t.Errorf("width %d: %d lines, want the 30 of the screen", tc.width, n)
		}
	}
}
