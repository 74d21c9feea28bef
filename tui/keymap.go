package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap is every key of the UI. Keys follow k9s where it has a
// convention. Pages pick the bindings they list in their help.
type keyMap struct {
	// global
	Quit, ForceQuit, Help, Command    key.Binding
	Apps, Workers, Events, Detail     key.Binding
	NextView, PrevView                key.Binding
	Up, Down, PageUp, PageDown        key.Binding
	Top, Bottom, Open, Back, Filter   key.Binding
	Logs, Kill, Sort, Pause           key.Binding
	Timestamps, Wrap, Follow, Stream  key.Binding
	Maximize                          key.Binding
	Confirm, Cancel, SwitchButton     key.Binding
	Press, RunCommand, Complete, Exit key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Quit:      b([]string{"q"}, "q", "quit"),
		ForceQuit: b([]string{"ctrl+c"}, "ctrl+c", "quit from anywhere"),
		Help:      b([]string{"?"}, "?", "help"),
		Command:   b([]string{":"}, ":", "command (:apps :workers :events :q)"),
		Apps:      b([]string{"1"}, "1", "apps"),
		Workers:   b([]string{"2"}, "2", "workers"),
		Events:    b([]string{"3"}, "3", "events"),
		Detail:    b([]string{"4"}, "4", "app detail"),
		NextView:  b([]string{"tab"}, "tab", "next view"),
		PrevView:  b([]string{"shift+tab"}, "shift+tab", "previous view"),

		Up:       b([]string{"k", "up"}, "k/↑", "up"),
		Down:     b([]string{"j", "down"}, "j/↓", "down"),
		PageUp:   b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+f"}, "pgdn", "page down"),
		Top:      b([]string{"g", "home"}, "g", "top"),
		Bottom:   b([]string{"G", "end"}, "G", "bottom"),
		Open:     b([]string{"enter"}, "enter", "open"),
		Back:     b([]string{"esc"}, "esc", "back / clear filter"),
		Filter:   b([]string{"/"}, "/", "filter"),

		Logs: b([]string{"l"}, "l", "logs"),
		Kill: b([]string{"ctrl+k"}, "ctrl+k", "kill"),
		// Sort is for the help only (the keys are the columns' letters):
		// its key name matches no key press.
		Sort:  b([]string{"shift+letter"}, "shift+letter", "sort by column (again: reverse)"),
		Pause: b([]string{"p", " "}, "p/space", "pause / resume"),

		Timestamps: b([]string{"t"}, "t", "timestamps"),
		Wrap:       b([]string{"w"}, "w", "wrap"),
		Follow:     b([]string{"s"}, "s", "autoscroll (follow)"),
		Stream:     b([]string{"o"}, "o", "stdout / stderr"),
		Maximize:   b([]string{"l"}, "l", "logs full screen / split"),

		Confirm:      b([]string{"y"}, "y", "kill"),
		Cancel:       b([]string{"n", "esc"}, "n/esc", "cancel"),
		SwitchButton: b([]string{"tab", "left", "right"}, "tab/←/→", "switch button"),
		Press:        b([]string{"enter"}, "enter", "press the highlighted button"),
		RunCommand:   b([]string{"enter"}, "enter", "run"),
		Complete:     b([]string{"tab"}, "tab", "complete"),
		Exit:         b([]string{"esc"}, "esc", "close"),
	}
}

// globalHelp lists the keys every view has, folded for the help.
func (k keyMap) globalHelp() []key.Binding {
	h := func(keys, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys), key.WithHelp(keys, desc))
	}
	return []key.Binding{
		h("1 2 3 4", "apps · workers · events · detail"),
		h("tab/shift+tab", "next / previous view"),
		k.Command, k.Help,
		h("q/ctrl+c", "quit (ctrl+c from anywhere)"),
	}
}

// moveHelp lists the keys that move in a list.
func (k keyMap) moveHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
}
