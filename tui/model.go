package tui

import (
	"context"
	"strings"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// view is one of the pages.
type view int

const (
	viewApps view = iota
	viewWorkers
	viewEvents
	viewDetail
)

func (v view) String() string {
	return [...]string{"Apps", "Workers", "Events", "Detail"}[v]
}

// component is a part of the screen, as in soft-serve: it takes the room
// it is given and lists its keys for the help. Each has its own View and
// update methods, which differ in what they need.
type component interface {
	help.KeyMap
	SetSize(width, height int)
}

var (
	_ component = (*appsPage)(nil)
	_ component = (*workersPage)(nil)
	_ component = (*eventsPage)(nil)
	_ component = (*detailPage)(nil)
	_ component = (*cmdLine)(nil)
)

// chrome is the lines around a page: the header, the status line and the
// key line.
const chrome = headerLines + 2

// Model is the bubbletea model of `alohactl top`. Use it as a pointer.
type Model struct {
	// ctx is the program's lifetime. bubbletea's Update takes no context,
	// so the model keeps the one it was made with and derives every
	// command's context from it; cancelling it ends every reader.
	ctx  context.Context
	src  Source
	opts Options
	now  func() time.Time
	st   *styles
	keys keyMap

	width, height int

	data   *cluster
	events *eventLog
	conn   conn

	// The event reader: its generation (messages of older readers are
	// ignored), its channel, and how to stop it. retryPump is when to
	// start a new one after the last stopped.
	pumpGen    int
	pumpCh     chan pumpItem
	pumpCancel context.CancelFunc
	retryPump  time.Time

	// Snapshot loading: while loading, events are queued and replayed on
	// the snapshot; reloadAgain asks for another once this one is in.
	snapGen     int
	loading     bool
	reloadAgain bool
	queued      []api.Event
	retrySnap   time.Time
	epoch       uint64 // the leader's epoch the data comes from

	refreshing  bool
	lastRefresh time.Time
	fetching    map[string]bool

	// The log reader of the detail view.
	logGen    int
	logCh     chan tea.Msg
	logCancel context.CancelFunc

	view      view
	back      []view
	header    *header
	apps      *appsPage
	workers   *workersPage
	evPage    *eventsPage
	detail    *detailPage
	cmd       *cmdLine
	helpView  *helpOverlay
	confirm   *confirmDialog
	filtering bool // the current table's filter takes the keys
	showHelp  bool

	status     string
	statusBad  bool
	statusTime time.Time
}

// queueLimit bounds the events queued while a snapshot loads; past it the
// queue is dropped and a newer snapshot is loaded instead.
const queueLimit = 100_000

// New returns a model that reads the cluster through src. renderer draws
// the styles (nil: one for stdout); color and dark choose the palette.
func New(ctx context.Context, src Source, opts Options, renderer *lipgloss.Renderer, color, dark bool) *Model {
	opts = opts.withDefaults()
	if renderer == nil {
		renderer = lipgloss.DefaultRenderer()
	}
	st := newStyles(renderer, color, dark)
	m := &Model{ctx: ctx, src: src, opts: opts, now: opts.Now, st: st, keys: newKeyMap(),
		data: newCluster(opts.MaxApps), events: &eventLog{cap: opts.MaxEvents}, fetching: map[string]bool{}}
	m.conn = conn{phase: connecting, since: m.now()}
	m.header = &header{st: st, data: m.data, conn: &m.conn, masters: opts.Masters}
	m.apps = newAppsPage(m.data, st, &m.keys, m.now)
	m.workers = newWorkersPage(m.data, st, &m.keys, m.now)
	m.evPage = newEventsPage(m.events, st, &m.keys, m.now)
	m.evPage.noteState()
	m.detail = newDetailPage(m.data, st, &m.keys, m.now, opts.LogLines)
	m.cmd = newCmdLine(st, &m.keys)
	m.helpView = newHelpOverlay(st)
	m.resize(80, 24)
	return m
}

// Init starts the event reader, the first refresh and the clock.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.startPump(), m.startRefresh(), tick())
}

// resize gives every component its room.
func (m *Model) resize(width, height int) {
	m.width, m.height = width, height
	body := max(height-chrome, 1)
	m.header.SetSize(width, headerLines)
	for _, p := range m.pages() {
		p.SetSize(width, body)
	}
	m.cmd.SetSize(width, 1)
}

// pages are the views, in the order of their keys 1 to 4.
func (m *Model) pages() []component {
	return []component{m.apps, m.workers, m.evPage, m.detail}
}

// page is the current view.
func (m *Model) page() component { return m.pages()[m.view] }

// View draws the screen: header, page, status line, key line.
func (m *Model) View() string {
	now := m.now()
	var body string
	switch m.view {
	case viewApps:
		body = m.apps.View(m.filtering)
	case viewWorkers:
		body = m.workers.View(m.filtering)
	case viewEvents:
		body = m.evPage.View(m.filtering)
	case viewDetail:
		body = m.detail.View()
	}
	if m.loading && len(m.data.appList) == 0 && m.view != viewEvents && m.view != viewDetail {
		body = m.st.title.Render(m.view.String()) + "\n\n  " + m.st.faint.Render("loading…")
	}
	bodyHeight := max(m.height-chrome, 1)
	body = fill(body, bodyHeight)
	switch {
	case m.confirm != nil:
		body = place(body, m.confirm.View(), m.width, bodyHeight, m.st.color)
	case m.showHelp:
		body = place(body, m.helpView.View(m.view.String()+" view", m.page(), m.width), m.width, bodyHeight, m.st.color)
	}
	var b strings.Builder
	b.WriteString(m.header.View(now, m.view, m.detail.id))
	b.WriteString("\n")
	b.WriteString(body)
	b.WriteString("\n")
	b.WriteString(m.statusLine())
	b.WriteString("\n")
	b.WriteString(m.keyLine())
	return b.String()
}

// fill cuts or pads s to exactly n lines.
func fill(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

func (m *Model) statusLine() string {
	if m.cmd.active {
		return m.cmd.View()
	}
	if m.status == "" {
		return ""
	}
	if m.statusBad {
		return clip(m.st.bad.Render("✗ ")+m.status, m.width)
	}
	return clip(m.st.ok.Render("✓ ")+m.status, m.width)
}

// keyLine lists the main keys of what has the keyboard.
func (m *Model) keyLine() string {
	var bindings []key.Binding
	switch {
	case m.confirm != nil:
		bindings = m.confirm.ShortHelp()
	case m.showHelp:
		bindings = []key.Binding{m.keys.Exit}
	case m.cmd.active:
		bindings = m.cmd.ShortHelp()
	case m.filtering:
		h := func(k, desc string) key.Binding { return key.NewBinding(key.WithKeys(k), key.WithHelp(k, desc)) }
		bindings = []key.Binding{h("type", "to filter (live, any column)"), h("enter", "keep the filter"), h("esc", "clear it")}
	default:
		bindings = m.page().ShortHelp()
	}
	return m.helpView.shortHelp(bindings, m.width)
}

// setStatus shows a message in the status line.
func (m *Model) setStatus(bad bool, msg string) {
	m.status, m.statusBad, m.statusTime = msg, bad, m.now()
}
