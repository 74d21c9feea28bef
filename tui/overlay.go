package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// helpOverlay lists every key of the current view.
type helpOverlay struct {
	st   *styles
	help help.Model
}

func newHelpOverlay(st *styles) *helpOverlay {
	h := help.New()
	h.Styles.ShortKey = st.key
	h.Styles.ShortDesc = st.keyDesc
	h.Styles.ShortSeparator = st.faint
	return &helpOverlay{st: st, help: h}
}

// View draws the keys of km in a box titled with the view: one column
// per group, the columns wrapping onto more rows when the screen is
// narrow.
func (o *helpOverlay) View(title string, km help.KeyMap, width int) string {
	room := max(width-4, 20) // the border and padding
	var blocks []string
	var row []string
	used := 0
	for _, group := range km.FullHelp() {
		col := o.column(group)
		w := 0
		for _, l := range strings.Split(col, "\n") {
			w = max(w, ansi.StringWidth(l))
		}
		if used > 0 && used+w > room {
			blocks = append(blocks, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, used = nil, 0
		}
		row = append(row, col+"    ")
		used += w + 4
	}
	if len(row) > 0 {
		blocks = append(blocks, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	head := o.st.title.Render("Keys: "+title) + o.st.faint.Render("   (any key closes)")
	return o.st.overlay.Render(head + "\n\n" + strings.Join(blocks, "\n\n"))
}

// column lists one group of keys, the keys aligned.
func (o *helpOverlay) column(group []key.Binding) string {
	kw := 0
	for _, b := range group {
		kw = max(kw, ansi.StringWidth(b.Help().Key))
	}
	lines := make([]string, 0, len(group))
	for _, b := range group {
		h := b.Help()
		lines = append(lines, o.st.key.Render(fit(h.Key, kw, false))+" "+o.st.keyDesc.Render(h.Desc))
	}
	return strings.Join(lines, "\n")
}

// shortHelp is the one-line key list at the bottom of the screen.
func (o *helpOverlay) shortHelp(bindings []key.Binding, width int) string {
	o.help.Width = width
	return o.help.ShortHelpView(bindings)
}

// place draws box centred over the lines of body, which it covers; body
// stays visible around it. With color, styles are reset at the box's
// edges so that none bleeds across them.
func place(body, box string, width, height int, color bool) string {
	reset := ""
	if color {
		reset = "\x1b[m"
	}
	lines := strings.Split(body, "\n")
	for len(lines) < height {
		lines = append(lines, "")
	}
	boxLines := strings.Split(box, "\n")
	bw := 0
	for _, l := range boxLines {
		bw = max(bw, ansi.StringWidth(l))
	}
	if bw > width {
		for i, l := range boxLines {
			boxLines[i] = ansi.Truncate(l, width, "")
		}
		bw = width
	}
	x := max((width-bw)/2, 0)
	y := max((height-len(boxLines))/2, 0)
	for i, bl := range boxLines {
		n := y + i
		if n >= len(lines) {
			break
		}
		under := lines[n]
		left := fit(ansi.Truncate(under, x, ""), x, false)
		right := ansi.TruncateLeft(under, x+bw, "")
		lines[n] = left + reset + fit(bl, bw, false) + reset + right
	}
	return strings.Join(lines[:max(height, 0)], "\n")
}
