package tui

import (
	"unicode"

	"github.com/alohasched/aloha/api"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// mouseStep is how many rows one turn of the wheel scrolls.
const mouseStep = 3

// handleKey routes a key to what has the keyboard: the dialog, the help,
// the command line, the filter, else the global keys, else the page.
func (m *Model) handleKey(k tea.KeyMsg) tea.Cmd {
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste && !k.Alt && !m.filtering && !m.cmd.active {
		// Keys typed faster than they are read arrive together: take
		// them one by one.
		var cmds []tea.Cmd
		for _, r := range k.Runes {
			cmds = append(cmds, m.handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}))
		}
		return tea.Sequence(cmds...)
	}
	if k.Alt && (k.Type == tea.KeyRunes || k.Type == tea.KeySpace) {
		// No key here uses alt: an alt+key is esc then the key, typed
		// quickly enough for the terminal to send them as one.
		k.Alt = false
		return tea.Sequence(m.handleKey(tea.KeyMsg{Type: tea.KeyEsc}), m.handleKey(k))
	}
	keys := &m.keys
	if key.Matches(k, keys.ForceQuit) {
		return m.quit()
	}
	switch {
	case m.confirm != nil:
		return m.confirmKey(k)
	case m.showHelp:
		m.showHelp = false
		return nil
	case m.cmd.active:
		return m.cmdKey(k)
	case m.filtering:
		m.filterKey(k)
		return nil
	}
	switch {
	case key.Matches(k, keys.Quit):
		return m.quit()
	case key.Matches(k, keys.Help):
		m.showHelp = true
	case key.Matches(k, keys.Command):
		return m.cmd.open()
	case key.Matches(k, keys.Apps):
		m.switchTo(viewApps)
	case key.Matches(k, keys.Workers):
		m.switchTo(viewWorkers)
	case key.Matches(k, keys.Events):
		m.switchTo(viewEvents)
	case key.Matches(k, keys.Detail):
		if m.detail.id != "" {
			return m.openApp(m.detail.id, m.detail.maxLogs)
		}
		return m.openSelected(false)
	case key.Matches(k, keys.NextView):
		return m.cycle(1)
	case key.Matches(k, keys.PrevView):
		return m.cycle(-1)
	default:
		if m.view == viewDetail {
			return m.detailKey(k)
		}
		return m.tableKey(k)
	}
	return nil
}

func (m *Model) quit() tea.Cmd {
	m.stopLogs()
	if m.pumpCancel != nil {
		m.pumpCancel()
	}
	return tea.Quit
}

// tableKey handles the keys of the apps, workers and events views.
func (m *Model) tableKey(k tea.KeyMsg) tea.Cmd {
	keys := &m.keys
	t := m.current()
	switch {
	case key.Matches(k, keys.Up):
		t.move(-1)
	case key.Matches(k, keys.Down):
		t.move(1)
	case key.Matches(k, keys.PageUp):
		t.move(-t.pageSize())
	case key.Matches(k, keys.PageDown):
		t.move(t.pageSize())
	case key.Matches(k, keys.Top):
		t.home()
	case key.Matches(k, keys.Bottom):
		t.end()
	case key.Matches(k, keys.Filter):
		m.filtering = true
	case key.Matches(k, keys.Back):
		if t.filterText() != "" {
			t.setFilter("")
		} else {
			m.goBack()
		}
	case m.view == viewEvents && key.Matches(k, keys.Pause):
		m.evPage.togglePause()
	case key.Matches(k, keys.Open):
		return m.open()
	case m.view == viewApps && key.Matches(k, keys.Logs):
		return m.openSelected(true)
	case m.view == viewApps && key.Matches(k, keys.Kill):
		if r, ok := m.apps.selected(); ok {
			m.askKill(r.info)
		}
	default:
		if r := []rune(k.String()); len(r) == 1 && unicode.IsUpper(r[0]) && t.sortBy(r[0]) {
			return nil
		}
	}
	if m.view == viewEvents {
		m.evPage.moved()
	}
	return nil
}

// pager is what the key handling needs of a table.
type pager interface {
	move(n int)
	home()
	end()
	pageSize() int
	setFilter(string)
	filterText() string
	sortBy(rune) bool
}

func (t *table[R]) pageSize() int      { return max(t.height-1, 1) }
func (t *table[R]) filterText() string { return t.filter }

func (m *Model) current() pager {
	switch m.view {
	case viewWorkers:
		return m.workers
	case viewEvents:
		return m.evPage
	}
	return m.apps
}

// detailKey handles the keys of the detail view.
func (m *Model) detailKey(k tea.KeyMsg) tea.Cmd {
	keys := &m.keys
	p := m.detail.logs
	switch {
	case key.Matches(k, keys.Up):
		p.scroll(-1)
	case key.Matches(k, keys.Down):
		p.scroll(1)
	case key.Matches(k, keys.PageUp):
		p.scroll(-p.rows())
	case key.Matches(k, keys.PageDown):
		p.scroll(p.rows())
	case key.Matches(k, keys.Top):
		p.home()
	case key.Matches(k, keys.Bottom):
		p.bottom()
	case key.Matches(k, keys.Follow):
		p.toggleFollow()
	case key.Matches(k, keys.Wrap):
		p.wrap = !p.wrap
	case key.Matches(k, keys.Timestamps):
		p.stamps = !p.stamps
	case key.Matches(k, keys.Stream):
		p.stream = map[api.LogStream]api.LogStream{api.Stdout: api.Stderr, api.Stderr: api.Stdout}[p.stream]
		return m.startLogs()
	case key.Matches(k, keys.Maximize):
		m.detail.toggleMax()
	case key.Matches(k, keys.Kill):
		if info, ok := m.detail.info(); ok {
			m.askKill(info)
		}
	case key.Matches(k, keys.Back):
		m.goBack()
	}
	return nil
}

// askKill opens the dialog that confirms a kill.
func (m *Model) askKill(info api.AppInfo) {
	if info.State.IsFinal() || info.State == api.AppRelaunching {
		m.setStatus(true, "cannot kill "+info.ID+": it already ended ("+string(info.State)+")")
		return
	}
	m.confirm = &confirmDialog{st: m.st, keys: &m.keys, id: info.ID, name: info.Spec.Name, state: string(info.State),
		worker: m.data.workerName(info.WorkerID, info.WorkerAddr)}
}

func (m *Model) confirmKey(k tea.KeyMsg) tea.Cmd {
	d := m.confirm
	keys := &m.keys
	switch {
	case key.Matches(k, keys.Confirm), key.Matches(k, keys.Press) && d.onKill:
		m.confirm = nil
		m.setStatus(false, "killing "+d.id+"…")
		return kill(m.ctx, m.src, d.id, m.opts.Timeout)
	case key.Matches(k, keys.Cancel), key.Matches(k, keys.Press):
		m.confirm = nil
		m.setStatus(false, "kill of "+d.id+" cancelled")
	case key.Matches(k, keys.SwitchButton):
		d.onKill = !d.onKill
	}
	return nil
}

// filterKey edits the current table's filter, which applies as typed.
func (m *Model) filterKey(k tea.KeyMsg) {
	t := m.current()
	f := []rune(t.filterText())
	switch k.Type {
	case tea.KeyEnter:
		m.filtering = false
		return
	case tea.KeyEsc:
		m.filtering = false
		f = nil
	case tea.KeyBackspace:
		if len(f) > 0 {
			f = f[:len(f)-1]
		}
	case tea.KeyCtrlU:
		f = nil
	case tea.KeyCtrlW:
		for len(f) > 0 && f[len(f)-1] == ' ' {
			f = f[:len(f)-1]
		}
		for len(f) > 0 && f[len(f)-1] != ' ' {
			f = f[:len(f)-1]
		}
	case tea.KeyRunes, tea.KeySpace:
		f = append(f, k.Runes...)
	default:
		return
	}
	t.setFilter(string(f))
	t.home()
}

// cmdKey handles the command line.
func (m *Model) cmdKey(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEsc:
		m.cmd.close()
		return nil
	case tea.KeyEnter:
		typed := m.cmd.input.Value()
		m.cmd.close()
		return m.runCommand(typed)
	}
	return m.cmd.update(k)
}

func (m *Model) runCommand(typed string) tea.Cmd {
	name, ok := resolve(typed)
	if !ok {
		m.setStatus(true, "unknown command :"+typed+" (try :apps, :workers, :events, :detail, :help, :q)")
		return nil
	}
	switch name {
	case "apps":
		m.switchTo(viewApps)
	case "workers":
		m.switchTo(viewWorkers)
	case "events":
		m.switchTo(viewEvents)
	case "detail":
		return m.openSelected(false)
	case "help":
		m.showHelp = true
	case "quit", "q":
		return m.quit()
	}
	return nil
}

// handleMouse scrolls with the wheel.
func (m *Model) handleMouse(msg tea.MouseMsg) {
	if msg.Action != tea.MouseActionPress || m.confirm != nil || m.showHelp {
		return
	}
	step := 0
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		step = -mouseStep
	case tea.MouseButtonWheelDown:
		step = mouseStep
	default:
		return
	}
	if m.view == viewDetail {
		m.detail.logs.scroll(step)
		return
	}
	m.current().move(step)
	if m.view == viewEvents {
		m.evPage.moved()
	}
}
