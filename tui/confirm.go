package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
)

// confirmDialog asks before a kill. It names the application, and Cancel
// is the button pressed by enter until another is chosen.
type confirmDialog struct {
	st     *styles
	keys   *keyMap
	id     string
	name   string
	state  string
	worker string
	onKill bool // the Kill button is highlighted
}

func (d *confirmDialog) ShortHelp() []key.Binding {
	return []key.Binding{d.keys.Confirm, d.keys.Cancel, d.keys.SwitchButton, d.keys.Press}
}

func (d *confirmDialog) FullHelp() [][]key.Binding { return [][]key.Binding{d.ShortHelp()} }

func (d *confirmDialog) View() string {
	q := d.st.bad.Render("Kill application "+d.id+"?") + "\n\n" +
		d.st.faint.Render("name   ") + d.name + "\n" +
		d.st.faint.Render("state  ") + d.st.paint(d.state, d.state)
	if d.worker != "" {
		q += "\n" + d.st.faint.Render("worker ") + d.worker
	}
	cancel, kill := d.st.buttonActive.Render("[ Cancel ]"), d.st.button.Render("  Kill  ")
	if d.onKill {
		cancel, kill = d.st.button.Render("  Cancel  "), d.st.buttonActive.Render("[ Kill ]")
	}
	buttons := lipgloss.JoinHorizontal(lipgloss.Top, cancel, "   ", kill)
	hint := d.st.faint.Render("y kills · n or esc cancels · tab switches · enter presses")
	return d.st.dialog.Render(q + "\n\n" + buttons + "\n\n" + hint)
}
