package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	tea "github.com/charmbracelet/bubbletea"
)

// A cursor on the first row follows the newest application; elsewhere
// it stays on the application it is on.
func TestNewAppsAndTheCursor(t *testing.T) {
	src := sampleCluster()
	m := loaded(t, src)
	add := func(n int) {
		id := app(n, "new", api.AppSubmitted, "", 0).ID
		m.Update(eventsMsg{gen: m.pumpGen, events: []api.Event{{Type: api.EventAppStateChanged, AppID: id, State: api.AppSubmitted, Time: t0.Add(time.Duration(n))}}})
	}
	add(4)
	if r, _ := m.apps.selected(); r.info.ID != "app-20250601115000-0004" {
		t.Errorf("at the top, the cursor is on %s, want the new app", r.info.ID)
	}
	press(m, "j", "j")
	add(5)
	if r, _ := m.apps.selected(); r.info.Spec.Name != "failer" {
		t.Errorf("down the list, the cursor moved to %s", r.info.Spec.Name)
	}
}

// Keys that arrive together are taken one by one; esc then a key, sent
// as one alt+key, is both.
func TestKeysThatArriveTogether(t *testing.T) {
	m := loaded(t, sampleCluster())
	press(m, "2/")
	if v := m.View(); !strings.Contains(v, "[2 Workers]") || !m.filtering {
		t.Errorf("\"2/\" did not switch view and start the filter:\n%s", v)
	}
	press(m, "esc")
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'1'}, Alt: true})
	if v := m.View(); !strings.Contains(v, "[1 Apps]") {
		t.Errorf("alt+1 did not go to the apps view:\n%s", v)
	}
}
