package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/charmbracelet/bubbles/key"
)

// detailPage shows one application: its spec and state history above,
// its output below (or the output alone, full screen).
type detailPage struct {
	st   *styles
	keys *keyMap
	data *cluster
	now  func() time.Time
	logs *logPane

	id       string
	fetched  *api.AppInfo // the latest Status answer, for apps not in the list
	maxLogs  bool         // the logs take the whole page
	width    int
	height   int
	topLines int // the height of the spec and history part
}

func newDetailPage(data *cluster, st *styles, keys *keyMap, now func() time.Time, logLines int) *detailPage {
	return &detailPage{st: st, keys: keys, data: data, now: now, logs: newLogPane(st, logLines)}
}

// info is what is known of the application shown.
func (d *detailPage) info() (api.AppInfo, bool) {
	if r := d.data.apps[d.id]; r != nil {
		return r.info, true
	}
	if d.fetched != nil && d.fetched.ID == d.id {
		return *d.fetched, true
	}
	return api.AppInfo{ID: d.id}, false
}

func (d *detailPage) SetSize(width, height int) {
	d.width, d.height = width, height
	d.layout()
}

// layout splits the height between the summary, as tall as it needs up
// to two fifths of the page, and the logs.
func (d *detailPage) layout() {
	d.topLines = 0
	if !d.maxLogs {
		info, _ := d.info()
		need := 3 + max(len(specLines(info, d.now())), len(info.History)+1)
		d.topLines = min(need, max(d.height*2/5, 6))
		if d.height-d.topLines < 4 {
			d.topLines = 0
		}
	}
	d.logs.SetSize(d.width, d.height-d.topLines)
}

func (d *detailPage) toggleMax() {
	d.maxLogs = !d.maxLogs
	d.layout()
}

func (d *detailPage) View() string {
	d.layout()
	if d.topLines == 0 {
		return d.logs.View()
	}
	return d.summary() + "\n" + d.logs.View()
}

// summary draws the title line, then the spec beside the state history,
// in topLines lines.
func (d *detailPage) summary() string {
	info, known := d.info()
	now := d.now()
	title := d.st.title.Render(info.ID) + "  " + d.st.bold.Render(info.Spec.Name) + "  " +
		d.st.paint(string(info.State), string(info.State))
	if w := d.data.workerName(info.WorkerID, info.WorkerAddr); w != "" {
		title += d.st.faint.Render(" on ") + w
	}
	if !known {
		title += d.st.faint.Render("  loading…")
	} else if info.Message != "" {
		title += d.st.faint.Render("  " + info.Message)
	}
	room := d.topLines - 2 // the title and a blank line before the logs
	left := min(max(d.width*2/5, 30), 60)
	spec := specLines(info, now)
	hist := d.historyLines(info, max(d.width-left-2, 10))
	if len(hist) > room {
		hist = hist[len(hist)-room:] // the latest changes
	}
	lines := make([]string, 0, room)
	for i := 0; i < room; i++ {
		var l, r string
		if i < len(spec) {
			l = spec[i]
		}
		if i < len(hist) {
			r = hist[i]
		}
		lines = append(lines, fit(l, left, false)+"  "+r)
	}
	return clip(title, d.width) + "\n" + strings.Join(lines, "\n") + "\n"
}

// specLines lists the spec as "field  value" lines.
func specLines(i api.AppInfo, now time.Time) []string {
	s := i.Spec
	var out []string
	add := func(k, v string) {
		if v != "" {
			out = append(out, fmt.Sprintf("%-10s %s", k, v))
		}
	}
	add("kind", s.EntryPoint)
	if len(s.Argv) > 0 {
		add("argv", strings.Join(s.Argv, " "))
	} else {
		add("args", strings.ReplaceAll(s.Args, "\n", "⏎"))
	}
	add("resources", plural(s.Cores, "core", "cores")+", "+mem(s.Memory))
	if s.Supervise {
		add("supervise", "yes")
	}
	add("restart", restartText(s.Restart, i.Restarts))
	if s.MaxRuntime > 0 {
		add("max run", s.MaxRuntime.String())
	}
	add("libs", strings.Join(s.Libs, ", "))
	add("labels", kv(s.Labels))
	add("env", kv(s.Env))
	add("submitted", since(now, i.SubmittedAt)+" ago")
	if !i.StartedAt.IsZero() {
		add("ran", runTime(i, now))
	}
	if i.ExitCode != nil {
		add("exit code", strconv.Itoa(*i.ExitCode))
	}
	add("relaunched", joinNonEmpty(" ", prefixed("from ", i.RelaunchedFrom), prefixed("as ", i.RelaunchedAs)))
	return out
}

func restartText(p api.RestartPolicy, restarts int) string {
	if p.Policy == "" || p.Policy == api.RestartNever {
		return "never"
	}
	return fmt.Sprintf("%s, %d of %d used", p.Policy, restarts, p.MaxAttempts)
}

func kv(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, " ")
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}

// historyLines lists the state changes, oldest first.
func (d *detailPage) historyLines(i api.AppInfo, width int) []string {
	out := []string{d.st.colHeader.Render("HISTORY")}
	for _, h := range i.History {
		line := h.Time.Local().Format("15:04:05") + " " + d.st.paint(string(h.State), fit(string(h.State), 11, false))
		out = append(out, line+" "+clip(h.Message, max(width-21, 1)))
	}
	return out
}

func (d *detailPage) ShortHelp() []key.Binding {
	k := d.keys
	return []key.Binding{k.Follow, k.Stream, k.Wrap, k.Timestamps, k.Maximize, d.back(), k.Help, k.Kill}
}

func (d *detailPage) FullHelp() [][]key.Binding {
	k := d.keys
	bottom := k.Bottom
	bottom.SetHelp("G", "bottom (and follow)")
	return [][]key.Binding{
		{k.Follow, k.Stream, k.Wrap, k.Timestamps, k.Maximize},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, bottom},
		{k.Kill, d.back()},
		k.globalHelp(),
	}
}

func (d *detailPage) back() key.Binding {
	b := d.keys.Back
	b.SetHelp("esc", "back")
	return b
}
