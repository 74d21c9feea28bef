package tui

import (
	"strings"

	"github.com/alohasched/aloha/api"
	"github.com/charmbracelet/x/ansi"
)

// stampWidth is the width of a line's arrival time, "15:04:05.000 ".
const stampWidth = 13

// logPane shows an application's output: a title line, then the lines
// in the window, following the newest (autoscroll) or where the reader
// scrolled to. It draws only the lines in the window.
type logPane struct {
	st       *styles
	buf      *logBuf
	capacity int

	appID  string
	stream api.LogStream
	follow bool // autoscroll: the window stays on the newest lines
	wrap   bool
	stamps bool
	top    int64 // the first line shown when not following

	status string // streaming, ended, or why it stopped
	failed bool

	width, height int
}

func newLogPane(st *styles, capacity int) *logPane {
	return &logPane{st: st, capacity: capacity, buf: newLogBuf(capacity), stream: api.Stdout, follow: true}
}

// reset empties the pane for an application's stream.
func (p *logPane) reset(appID string, stream api.LogStream) {
	p.appID, p.stream = appID, stream
	p.buf = newLogBuf(p.capacity)
	p.top, p.follow, p.failed = 0, true, false
	p.status = "connecting…"
}

func (p *logPane) SetSize(width, height int) { p.width, p.height = width, max(height, 2) }

// rows is the room for lines, the title excluded.
func (p *logPane) rows() int { return max(p.height-1, 1) }

// firstShown is the first line in the window.
func (p *logPane) firstShown() int64 {
	if p.follow {
		return max(p.buf.first(), p.buf.end()-int64(p.rows()))
	}
	return p.top
}

// scroll moves the window by n lines; moving up stops autoscroll.
func (p *logPane) scroll(n int) {
	if n < 0 && p.follow {
		p.top, p.follow = p.firstShown(), false
	}
	if p.follow {
		return
	}
	p.top += int64(n)
	p.clamp()
}

func (p *logPane) clamp() {
	p.top = min(p.top, max(p.buf.first(), p.buf.end()-int64(p.rows())))
	p.top = max(p.top, p.buf.first())
}

func (p *logPane) home() { p.follow, p.top = false, p.buf.first() }
func (p *logPane) bottom() {
	p.follow = true
}

// toggleFollow turns autoscroll on or off where the window is.
func (p *logPane) toggleFollow() {
	if p.follow {
		p.top, p.follow = p.firstShown(), false
	} else {
		p.follow = true
	}
}

// add appends lines as they arrive.
func (p *logPane) add(lines []logLine) {
	p.buf.add(lines)
	if !p.follow {
		p.clamp()
	}
}

// render draws one line as screen rows.
func (p *logPane) render(l logLine) []string {
	prefix := ""
	if p.stamps {
		if l.at.IsZero() {
			prefix = strings.Repeat(" ", stampWidth)
		} else {
			prefix = p.st.faint.Render(l.at.Local().Format("15:04:05.000")) + " "
		}
	}
	w := max(p.width-ansi.StringWidth(prefix), 1)
	if !p.wrap || ansi.StringWidth(l.text) <= w {
		return []string{prefix + clip(l.text, w)}
	}
	parts := strings.Split(ansi.Hardwrap(l.text, w, true), "\n")
	pad := strings.Repeat(" ", ansi.StringWidth(prefix))
	for i := range parts {
		if i == 0 {
			parts[i] = prefix + parts[i]
		} else {
			parts[i] = pad + parts[i]
		}
	}
	return parts
}

// marker says how many earlier lines the ring no longer has.
func (p *logPane) marker() string {
	return p.st.warn.Render(clip("… "+count(p.buf.dropped)+" earlier lines not shown (the view keeps the last "+
		count(p.capacity)+")", p.width))
}

// View draws the title and the window.
func (p *logPane) View() string {
	room := p.rows()
	var rows []string
	if p.follow {
		// From the newest line back until the window is full.
		for i := p.buf.end() - 1; i >= p.buf.first() && len(rows) < room; i-- {
			r := p.render(p.buf.line(i))
			rows = append(r, rows...)
		}
		if len(rows) > room {
			rows = rows[len(rows)-room:]
		} else if len(rows) < room && p.buf.dropped > 0 {
			rows = append([]string{p.marker()}, rows...)
		}
	} else {
		if p.top == p.buf.first() && p.buf.dropped > 0 {
			rows = append(rows, p.marker())
		}
		for i := p.top; i < p.buf.end() && len(rows) < room; i++ {
			rows = append(rows, p.render(p.buf.line(i))...)
		}
		rows = rows[:min(len(rows), room)]
	}
	if len(rows) == 0 {
		rows = append(rows, p.st.faint.Render("(no output yet)"))
	}
	return p.title() + "\n" + strings.Join(rows, "\n")
}

func (p *logPane) title() string {
	on := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	var b strings.Builder
	b.WriteString(p.st.title.Render("Logs " + string(p.stream)))
	b.WriteString(p.st.faint.Render("  follow:" + on(p.follow) + "  wrap:" + on(p.wrap) + "  timestamps:" + on(p.stamps)))
	b.WriteString(p.st.faint.Render("  " + plural(p.buf.end()-p.buf.first(), "line", "lines")))
	if p.buf.dropped > 0 {
		b.WriteString(p.st.warn.Render(" (" + count(p.buf.dropped) + " earlier dropped)"))
	}
	switch {
	case p.failed:
		b.WriteString("  " + p.st.bad.Render(p.status))
	case p.status != "":
		b.WriteString("  " + p.st.faint.Render(p.status))
	}
	return clip(b.String(), p.width)
}
