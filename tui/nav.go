package tui

import (
	"context"

	"github.com/alohasched/aloha/api"
	tea "github.com/charmbracelet/bubbletea"
)

// switchTo shows a view, remembering the one left for esc.
func (m *Model) switchTo(v view) {
	if v == m.view {
		return
	}
	if m.view == viewDetail {
		m.stopLogs()
	}
	m.back = append(m.back, m.view)
	if len(m.back) > 32 {
		m.back = m.back[1:]
	}
	m.view = v
}

// cycle moves to the next or previous view; the detail view is in the
// cycle once an application was opened.
func (m *Model) cycle(step int) tea.Cmd {
	n := 3
	if m.detail.id != "" {
		n = 4
	}
	v := view((int(m.view) + step + n) % n)
	if v == viewDetail {
		return m.openApp(m.detail.id, m.detail.maxLogs)
	}
	m.switchTo(v)
	return nil
}

// goBack returns to the view shown before.
func (m *Model) goBack() {
	if len(m.back) == 0 {
		if m.view != viewApps {
			m.switchTo(viewApps)
			m.back = nil
		}
		return
	}
	v := m.back[len(m.back)-1]
	m.back = m.back[:len(m.back)-1]
	if m.view == viewDetail {
		m.stopLogs()
	}
	m.view = v
}

// open opens what is under the cursor: an application's detail, a
// worker's applications, an event's application.
func (m *Model) open() tea.Cmd {
	switch m.view {
	case viewApps:
		return m.openSelected(false)
	case viewWorkers:
		if w, ok := m.workers.selected(); ok {
			m.apps.setFilter(w.info.Addr)
			m.switchTo(viewApps)
		}
	case viewEvents:
		if r, ok := m.evPage.selected(); ok {
			id := r.e.AppID
			if r.e.NewAppID != "" {
				id = r.e.NewAppID
			}
			if id != "" {
				return m.openApp(id, false)
			}
		}
	}
	return nil
}

// openSelected opens the application selected in the apps view (or the
// one last opened), with the logs full screen if logs is set.
func (m *Model) openSelected(logs bool) tea.Cmd {
	if r, ok := m.apps.selected(); ok && (m.view == viewApps || m.detail.id == "") {
		return m.openApp(r.info.ID, logs)
	}
	if m.detail.id != "" {
		return m.openApp(m.detail.id, logs)
	}
	m.setStatus(true, "no application to open: select one in the apps view")
	return nil
}

// openApp shows an application and starts following its output.
func (m *Model) openApp(id string, logs bool) tea.Cmd {
	if m.view == viewDetail && m.detail.id == id {
		if logs != m.detail.maxLogs {
			m.detail.toggleMax()
		}
		return nil
	}
	m.switchTo(viewDetail)
	if m.detail.id != id {
		m.detail.fetched = nil
		m.detail.logs.stream = api.Stdout
	}
	m.detail.id = id
	if logs != m.detail.maxLogs {
		m.detail.toggleMax()
	}
	return tea.Batch(m.startLogs(), fetchApp(m.ctx, m.src, id, m.opts.Timeout))
}

// startLogs (re)starts reading the detail's application's output.
func (m *Model) startLogs() tea.Cmd {
	m.stopLogs()
	p := m.detail.logs
	p.reset(m.detail.id, p.stream)
	m.logGen++
	ctx, cancel := context.WithCancel(m.ctx)
	m.logCancel = cancel
	m.logCh = make(chan tea.Msg, logBuffer)
	return tea.Batch(readLogs(ctx, m.src, m.logGen, m.detail.id, p.stream, m.now, m.logCh), nextLog(m.logCh))
}

func (m *Model) stopLogs() {
	if m.logCancel != nil {
		m.logCancel()
		m.logCancel = nil
	}
	m.logGen++
	m.logCh = nil
}
