package tui

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

func appEvent(n int, id string, state api.AppState) api.Event {
	return api.Event{Seq: uint64(n), Type: api.EventAppStateChanged, AppID: id, State: state, Message: "event " + itoa(n), Time: t0.Add(time.Duration(n) * time.Second)}
}

func TestEventsViewFollowsAndPauses(t *testing.T) {
	m := loaded(t, sampleCluster())
	press(m, "3")
	send := func(from, to int) {
		var evs []api.Event
		for i := from; i <= to; i++ {
			evs = append(evs, appEvent(i, "app-20250601115000-0003", api.AppRunning))
		}
		m.Update(eventsMsg{gen: m.pumpGen, events: evs})
	}
	send(1, 60)
	v := m.View()
	if !strings.Contains(v, "event 60") || strings.Contains(v, "event 1 ") || !strings.Contains(v, "● live") {
		t.Errorf("the newest events are not at the bottom:\n%s", v)
	}
	if last := lastRow(v); !strings.HasPrefix(last, "> ") || !strings.Contains(last, "event 60") {
		t.Errorf("the last row %q is not the selected newest event", last)
	}
	press(m, "p")
	send(61, 62)
	v = m.View()
	if strings.Contains(v, "event 62") || !strings.Contains(v, "paused") || !strings.Contains(v, "2 new") {
		t.Errorf("paused, the view moved:\n%s", v)
	}
	// The filter works on what the paused view holds.
	press(m, "/", "event 6", "enter")
	if v := m.View(); !strings.Contains(v, "event 60") || strings.Contains(v, "event 61") || strings.Contains(v, "event 59") {
		t.Errorf("paused and filtered by \"event 6\":\n%s", v)
	}
	press(m, "esc")
	press(m, "p")
	if v := m.View(); !strings.Contains(v, "event 62") {
		t.Errorf("resumed, the view lacks the events that came:\n%s", v)
	}
	// Scrolling up stops following; G follows again.
	press(m, "k")
	send(63, 63)
	if v := m.View(); strings.Contains(lastRow(v), "> ") {
		t.Errorf("scrolled up, the cursor followed the newest event")
	}
	press(m, "G")
	send(64, 64)
	if last := lastRow(m.View()); !strings.Contains(last, "event 64") || !strings.HasPrefix(last, "> ") {
		t.Errorf("after G the last row is %q", last)
	}
	// enter opens the event's application.
	press(m, "enter")
	if m.view != viewDetail || m.detail.id != "app-20250601115000-0003" {
		t.Errorf("enter on an event opened %v %q", m.view, m.detail.id)
	}
}

func lastRow(v string) string {
	var last string
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, "AppStateChanged") {
			last = l
		}
	}
	return last
}

func TestMouseWheelScrolls(t *testing.T) {
	m := loaded(t, sampleCluster())
	m.Update(tea.MouseMsg{Action: tea.MouseActionPress, Button: tea.MouseButtonWheelDown})
	if r, _ := m.apps.selected(); r.info.Spec.Name != "greeter" {
		t.Errorf("the wheel down selected %s, want greeter (3 rows down, clamped)", r.info.Spec.Name)
	}
	m.Update(tea.MouseMsg{Action: tea.MouseActionPress, Button: tea.MouseButtonWheelUp})
	if r, _ := m.apps.selected(); r.info.Spec.Name != "sleeper" {
		t.Errorf("the wheel up selected %s", r.info.Spec.Name)
	}
}

func TestColourAndNoColour(t *testing.T) {
	src := sampleCluster()
	plain := loaded(t, src)
	if v := plain.View(); strings.Contains(v, "\x1b[") {
		t.Errorf("without colour the screen has escapes: %q", v)
	}
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	for _, dark := range []bool{true, false} {
		m := New(t.Context(), src, Options{Now: func() time.Time { return t0 }}, r, true, dark)
		m.Update(tea.WindowSizeMsg{Width: 140, Height: 30})
		drive(t, m, func() tea.Msg { return backlogMsg{gen: m.pumpGen} })
		if v := m.View(); !strings.Contains(v, "\x1b[") || !strings.Contains(v, "sleeper") {
			t.Errorf("dark %v: with colour the screen has no escapes:\n%s", dark, v)
		}
	}
}

// Keys with no data to act on say so and never panic.
func TestKeysOnAnEmptyCluster(t *testing.T) {
	m := newTestModel(t, &fakeSource{})
	for _, k := range []string{"enter", "l", "4", "ctrl+k", "j", "G", "g", "N", "/", "x", "esc", "2", "enter", "3", "enter", "p", "tab", "tab", "tab", "?", "x"} {
		press(m, k)
		_ = m.View()
	}
	m.Update(tea.WindowSizeMsg{Width: 10, Height: 3})
	_ = m.View()
}

func TestPumpCatchesUpThenFollows(t *testing.T) {
	src := &fakeSource{follow: make(chan api.Event, 10)}
	for i := 1; i <= 700; i++ {
		src.backlog = append(src.backlog, appEvent(i, "app-1", api.AppRunning))
	}
	ch := make(chan pumpItem, pumpBuffer)
	done := make(chan tea.Msg)
	go func() { done <- pumpEvents(t.Context(), src, 1, ch)() }()
	first := nextEvents(ch, 1)()
	b, ok := first.(backlogMsg)
	if !ok || len(b.events) != backlogKept || b.events[len(b.events)-1].Seq != 700 {
		t.Fatalf("first message %T with %d events, want the last %d of the backlog", first, len(b.events), backlogKept)
	}
	src.follow <- appEvent(701, "app-1", api.AppFinished)
	src.follow <- appEvent(702, "app-2", api.AppRunning)
	close(src.follow)
	var got []api.Event
	var end tea.Msg
	for end == nil {
		switch msg := nextEvents(ch, 1)().(type) {
		case eventsMsg:
			got = append(got, msg.events...)
			end = msg.then
		case streamEndMsg:
			end = msg
		}
	}
	if len(got) != 2 || got[0].Seq != 701 || got[1].Seq != 702 {
		t.Errorf("followed %v", got)
	}
	if e, ok := end.(streamEndMsg); !ok || e.err != nil {
		t.Errorf("the stream ended with %#v", end)
	}
	<-done
}

func TestPumpStopsWithItsContext(t *testing.T) {
	src := &fakeSource{follow: make(chan api.Event)}
	ctx, cancel := context.WithCancel(t.Context())
	ch := make(chan pumpItem, 1)
	done := make(chan tea.Msg)
	go func() { done <- pumpEvents(ctx, src, 1, ch)() }()
	<-ch // the backlog
	cancel()
	<-done
	for range ch { // closed once the reader returned
	}
	if msg := nextEvents(ch, 1)(); !errors.Is(msg.(streamEndMsg).err, context.Canceled) {
		t.Errorf("after the end the reader's channel gives %#v", msg)
	}
}

// A reader started again after an error re-reads the leader's buffer;
// the events view does not show those events twice.
func TestBacklogIsShownOnce(t *testing.T) {
	m := loaded(t, sampleCluster())
	backlog := []api.Event{appEvent(1, "app-1", api.AppRunning), appEvent(2, "app-1", api.AppFinished)}
	m.Update(backlogMsg{gen: m.pumpGen, events: backlog})
	m.pumpGen++
	m.Update(backlogMsg{gen: m.pumpGen, events: append(backlog, appEvent(3, "app-2", api.AppRunning))})
	if n := len(m.events.all()); n != 3 {
		t.Errorf("the events view holds %d events, want 3", n)
	}
}
