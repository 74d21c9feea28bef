package tui

import (
	"github.com/alohasched/aloha/api"
	"github.com/charmbracelet/lipgloss"
)

// styles are every style the UI draws with, made for one renderer (which
// knows the terminal's colour profile; NO_COLOR makes it draw plain text)
// and one background. Colours are the terminal's own 16 ANSI colours, so
// they follow its light or dark theme; the few shades that are not differ
// by background.
type styles struct {
	color bool

	logo, title, faint, bold  lipgloss.Style
	tab, tabActive            lipgloss.Style
	colHeader, selected       lipgloss.Style
	ok, warn, bad, info       lipgloss.Style
	key, keyDesc              lipgloss.Style
	dialog, overlay, button   lipgloss.Style
	buttonActive, filterInput lipgloss.Style
	states                    map[string]lipgloss.Style

	painted map[string]string // rendered state cells, by padded text
}

func newStyles(r *lipgloss.Renderer, color, dark bool) *styles {
	c := func(ansi string) lipgloss.TerminalColor {
		if !color {
			return lipgloss.NoColor{}
		}
		return lipgloss.Color(ansi)
	}
	shade := c("254") // a subtle background for the selected row
	border := c("250")
	if dark {
		shade, border = c("237"), c("240")
	}
	green, red, yellow, cyan, magenta, blue := c("2"), c("1"), c("3"), c("6"), c("5"), c("4")
	s := &styles{
		color:        color,
		logo:         r.NewStyle().Bold(true).Foreground(cyan),
		title:        r.NewStyle().Bold(true),
		faint:        r.NewStyle().Faint(true),
		bold:         r.NewStyle().Bold(true),
		tab:          r.NewStyle().Faint(true),
		tabActive:    r.NewStyle().Bold(true).Foreground(cyan),
		colHeader:    r.NewStyle().Bold(true).Foreground(blue),
		selected:     r.NewStyle().Bold(true).Background(shade),
		ok:           r.NewStyle().Foreground(green),
		warn:         r.NewStyle().Foreground(yellow),
		bad:          r.NewStyle().Foreground(red).Bold(true),
		info:         r.NewStyle().Foreground(cyan),
		key:          r.NewStyle().Bold(true).Foreground(cyan),
		keyDesc:      r.NewStyle().Faint(true),
		dialog:       r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(red).Padding(1, 2),
		overlay:      r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(border).Padding(0, 1),
		button:       r.NewStyle().Padding(0, 1),
		buttonActive: r.NewStyle().Padding(0, 1).Bold(true).Reverse(true),
		filterInput:  r.NewStyle().Foreground(yellow),
		painted:      map[string]string{},
	}
	s.states = map[string]lipgloss.Style{
		string(api.AppSubmitted): s.warn, string(api.AppLaunching): r.NewStyle().Foreground(cyan),
		string(api.AppRunning): r.NewStyle().Foreground(cyan).Bold(true), string(api.AppFinished): s.ok,
		string(api.AppFailed): s.bad, string(api.AppError): s.bad, string(api.AppKilled): r.NewStyle().Foreground(magenta),
		string(api.AppRelaunching): s.warn, string(api.AppUnknown): s.faint,
		string(api.WorkerAlive): s.ok, string(api.WorkerDead): s.bad, string(api.WorkerDecommissioned): s.warn,
		"LeaderChanged": s.info, "Lagged": s.warn, "WorkerLost": s.bad, "WorkerJoined": s.ok,
	}
	return s
}

// paint colours a padded state cell by the state it names; cells are
// cached, as a table has few distinct ones.
func (s *styles) paint(state, padded string) string {
	if !s.color {
		return padded
	}
	if p, ok := s.painted[padded]; ok {
		return p
	}
	st, ok := s.states[state]
	if !ok {
		return padded
	}
	p := st.Render(padded)
	if len(s.painted) < 4096 {
		s.painted[padded] = p
	}
	return p
}
