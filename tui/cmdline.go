package tui

import (
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// commands are what the command line runs, with the views they open.
var commands = map[string]string{
	"apps":    "the applications",
	"workers": "the workers",
	"events":  "the event stream",
	"detail":  "the selected application",
	"help":    "the keys",
	"quit":    "quit",
	"q":       "quit",
}

// aliases are the short names k9s users type.
var aliases = map[string]string{
	"app": "apps", "a": "apps", "ap": "apps",
	"worker": "workers", "w": "workers", "wk": "workers", "no": "workers", "nodes": "workers",
	"event": "events", "e": "events", "ev": "events",
	"d": "detail", "logs": "detail",
	"q!": "quit", "exit": "quit",
}

// cmdLine is the command line that ':' opens.
type cmdLine struct {
	keys   *keyMap
	input  textinput.Model
	active bool
}

func newCmdLine(st *styles, keys *keyMap) *cmdLine {
	in := textinput.New()
	in.Prompt = ":"
	in.PromptStyle = st.key
	in.Cursor.SetMode(cursor.CursorStatic)
	in.ShowSuggestions = true
	in.CompletionStyle = st.faint
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	in.SetSuggestions(names)
	return &cmdLine{keys: keys, input: in}
}

func (c *cmdLine) open() tea.Cmd {
	c.active = true
	c.input.Reset()
	return c.input.Focus()
}

func (c *cmdLine) close() {
	c.active = false
	c.input.Blur()
}

func (c *cmdLine) SetSize(width, _ int) { c.input.Width = max(width-2, 1) }

// update passes a key to the input; tab accepts the suggestion shown.
func (c *cmdLine) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	c.input, cmd = c.input.Update(msg)
	return cmd
}

// resolve turns what was typed into a command: a name, an alias, or a
// prefix of exactly one name.
func resolve(typed string) (string, bool) {
	w := strings.ToLower(strings.TrimSpace(typed))
	if _, ok := commands[w]; ok {
		return w, true
	}
	if a, ok := aliases[w]; ok {
		return a, true
	}
	var match string
	for n := range commands {
		if w != "" && strings.HasPrefix(n, w) {
			if match != "" && commands[match] != commands[n] {
				return "", false
			}
			match = n
		}
	}
	return match, match != ""
}

func (c *cmdLine) View() string { return c.input.View() }

func (c *cmdLine) ShortHelp() []key.Binding {
	return []key.Binding{c.keys.RunCommand, c.keys.Complete, c.keys.Exit}
}

func (c *cmdLine) FullHelp() [][]key.Binding { return [][]key.Binding{c.ShortHelp()} }
