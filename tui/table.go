package tui

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

// column is one column of a table.
type column[R any] struct {
	title string
	key   rune // shift+key sorts by it; 0: not sortable
	// min and max bound the width; the width grows to fit the widest
	// value drawn so far. flex takes the room the others leave.
	min, max int
	flex     bool
	right    bool
	prio     int    // the highest numbers go first when the screen is narrow
	state    bool   // its values are states, drawn in their colours
	deps     change // the changes that can alter its values
	live     bool   // its values move with the clock
	text     func(r R, now time.Time) string
	cmp      func(a, b R) int // nil: by text
}

// table is a windowed, filtered, sorted list of rows. It keeps an index
// of the rows that pass the filter, in order, rebuilt once per change,
// and draws only the rows in its window.
type table[R comparable] struct {
	name  string
	cols  []column[R]
	rows  func() []R       // every row; sorting is cheapest in base order
	base  func(a, b R) int // the default order
	key   func(R) string   // identifies a row across rebuilds
	hay   func(R) string   // what the filter searches, lower case
	empty string           // shown when there is no row at all
	st    *styles
	now   func() time.Time

	index    []R
	dirty    bool
	sortCol  int // -1: the default order
	desc     bool
	filter   string
	cursor   int
	top      int
	width    int
	height   int       // rows drawn, title and column header excluded
	seen     []int     // the widest value drawn, per column
	stickEnd bool      // the cursor stays on the last row as rows come
	note     string    // said after the title
	sortNow  time.Time // the clock for one sort
}

func newTable[R comparable](name string, st *styles, now func() time.Time, cols []column[R]) *table[R] {
	return &table[R]{name: name, st: st, now: now, cols: cols, sortCol: -1, dirty: true, seen: make([]int, len(cols))}
}

// SetSize gives the table its room, title and column header included.
func (t *table[R]) SetSize(width, height int) {
	t.width, t.height = width, max(height-2, 1)
	t.scrollToCursor()
}

// changed marks the index stale when a change can move, add or remove a
// row: rows added or removed, a change to the sorted column, or any
// change to a filtered table's rows.
func (t *table[R]) changed(c change) {
	if c == 0 {
		return
	}
	if c&chRows != 0 || (t.sortCol >= 0 && t.cols[t.sortCol].deps&c != 0) || t.filter != "" {
		t.dirty = true
	}
}

// tick marks the index stale when it is sorted by a column that moves
// with the clock.
func (t *table[R]) tick() {
	if t.sortCol >= 0 && t.cols[t.sortCol].live {
		t.dirty = true
	}
}

// ensure rebuilds the index if it is stale.
func (t *table[R]) ensure() {
	if !t.dirty {
		return
	}
	t.dirty = false
	var selKey string
	if len(t.index) > 0 {
		selKey = t.key(t.index[t.cursor])
	}
	// A cursor on the first row stays there: rows that come in at the
	// top (the newest applications) are seen, not scrolled past.
	atTop := t.cursor == 0 && len(t.index) > 0
	all := t.rows()
	t.index = t.index[:0]
	f := strings.ToLower(t.filter)
	for _, r := range all {
		if f == "" || strings.Contains(t.hay(r), f) {
			t.index = append(t.index, r)
		}
	}
	t.sortNow = t.now()
	slices.SortFunc(t.index, t.compare)
	t.cursor = 0
	if t.stickEnd {
		t.cursor = max(0, len(t.index)-1)
	} else if selKey != "" && !atTop {
		for i, r := range t.index {
			if t.key(r) == selKey {
				t.cursor = i
				break
			}
		}
	}
	t.scrollToCursor()
}

func (t *table[R]) compare(a, b R) int {
	if t.sortCol >= 0 {
		col := t.cols[t.sortCol]
		var c int
		if col.cmp != nil {
			c = col.cmp(a, b)
		} else {
			c = cmp.Compare(col.text(a, t.sortNow), col.text(b, t.sortNow))
		}
		if t.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return t.base(a, b)
}

// sortBy sorts by the column whose key is r; again reverses. It reports
// whether a column has that key.
func (t *table[R]) sortBy(r rune) bool {
	for i, c := range t.cols {
		if c.key == unicode.ToUpper(r) {
			if t.sortCol == i {
				t.desc = !t.desc
			} else {
				t.sortCol, t.desc = i, false
			}
			t.dirty = true
			return true
		}
	}
	return false
}

// setFilter filters the rows by a text any column may contain.
func (t *table[R]) setFilter(f string) {
	if f != t.filter {
		t.filter, t.dirty = f, true
	}
}

// selected returns the row under the cursor.
func (t *table[R]) selected() (R, bool) {
	t.ensure()
	var zero R
	if len(t.index) == 0 {
		return zero, false
	}
	return t.index[t.cursor], true
}

// move moves the cursor by n rows.
func (t *table[R]) move(n int) {
	t.ensure()
	t.cursor = max(0, min(t.cursor+n, len(t.index)-1))
	t.scrollToCursor()
}

func (t *table[R]) home() { t.move(-len(t.index)) }
func (t *table[R]) end()  { t.move(len(t.index)) }

func (t *table[R]) scrollToCursor() {
	if t.cursor < t.top {
		t.top = t.cursor
	}
	if t.cursor >= t.top+t.height {
		t.top = t.cursor - t.height + 1
	}
	t.top = max(0, min(t.top, len(t.index)-t.height))
}

// title is the line above the columns: name, counts, filter, order.
func (t *table[R]) title(editing bool) string {
	t.ensure()
	total := len(t.rows())
	var b strings.Builder
	b.WriteString(t.st.title.Render(t.name))
	if t.filter != "" || editing {
		b.WriteString(" " + t.st.faint.Render("["+count(len(t.index))+" of "+count(total)+"]"))
	} else {
		b.WriteString(" " + t.st.faint.Render("["+count(total)+"]"))
	}
	if editing {
		b.WriteString("  " + t.st.filterInput.Render("/"+t.filter+"█"))
	} else if t.filter != "" {
		b.WriteString("  " + t.st.filterInput.Render("/"+t.filter) + t.st.faint.Render(" (esc clears)"))
	}
	if t.sortCol >= 0 {
		b.WriteString(t.st.faint.Render("  sorted by " + t.cols[t.sortCol].title + arrow(t.desc)))
	}
	if t.note != "" {
		b.WriteString("  " + t.note)
	}
	return clip(b.String(), t.width)
}

func arrow(desc bool) string {
	if desc {
		return "↓"
	}
	return "↑"
}

// layout picks the columns that fit the width, most important first, and
// their widths.
func (t *table[R]) layout() (shown []int, widths []int) {
	widths = make([]int, len(t.cols))
	order := make([]int, len(t.cols))
	for i, c := range t.cols {
		order[i] = i
		w := max(c.min, ansi.StringWidth(c.title)+1, t.seen[i])
		if c.max > 0 {
			w = min(w, c.max)
		}
		widths[i] = w
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(t.cols[a].prio, t.cols[b].prio) })
	used := 2 // the cursor gutter
	keep := make([]bool, len(t.cols))
	for _, i := range order {
		need := widths[i]
		if t.cols[i].flex {
			need = t.cols[i].min
		}
		if used+need+1 > t.width && used > 2 {
			continue
		}
		keep[i] = true
		used += need + 1
	}
	for i, c := range t.cols {
		if keep[i] {
			shown = append(shown, i)
			if c.flex {
				widths[i] = max(c.min, t.width-used+c.min)
			}
		}
	}
	return shown, widths
}

// View draws the title, the column header and the rows in the window.
func (t *table[R]) View(editing bool) string {
	t.ensure()
	now := t.now()
	end := min(t.top+t.height, len(t.index))
	cells := make([][]string, 0, end-t.top)
	for _, r := range t.index[t.top:end] {
		row := make([]string, len(t.cols))
		for i, c := range t.cols {
			row[i] = c.text(r, now)
			if w := ansi.StringWidth(row[i]); w > t.seen[i] {
				t.seen[i] = w
			}
		}
		cells = append(cells, row)
	}
	shown, widths := t.layout()
	var b strings.Builder
	b.WriteString(t.title(editing))
	b.WriteString("\n")
	var hdr strings.Builder
	hdr.WriteString("  ")
	for _, i := range shown {
		title := t.cols[i].title
		if i == t.sortCol {
			title += arrow(t.desc)
		}
		hdr.WriteString(fit(title, widths[i], t.cols[i].right) + " ")
	}
	b.WriteString(t.st.colHeader.Render(clip(strings.TrimRight(hdr.String(), " "), t.width)))
	for n, row := range cells {
		b.WriteString("\n")
		sel := t.top+n == t.cursor
		var line strings.Builder
		if sel {
			line.WriteString("> ")
		} else {
			line.WriteString("  ")
		}
		for _, i := range shown {
			cell := fit(row[i], widths[i], t.cols[i].right)
			if t.cols[i].state && !sel {
				cell = t.st.paint(row[i], cell)
			}
			line.WriteString(cell + " ")
		}
		s := strings.TrimRight(line.String(), " ")
		if sel {
			s = t.st.selected.Render(fit(s, t.width, false))
		}
		b.WriteString(s)
	}
	if len(t.index) == 0 {
		b.WriteString("\n  ")
		if t.filter != "" {
			b.WriteString(t.st.faint.Render("nothing matches /" + t.filter + " (esc clears the filter)"))
		} else {
			b.WriteString(t.st.faint.Render(t.empty))
		}
	}
	return b.String()
}
