package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/alohasched/aloha/internal/humanize"
)

// human and since are humanize's, named short for the table code.
var (
	human = humanize.Duration
	since = humanize.Since
)

// mem formats megabytes: 512M, 1.5G, 2.0T.
func mem(mb int) string {
	switch {
	case mb < 1024:
		return strconv.Itoa(mb) + "M"
	case mb < 1024*1024:
		return strconv.FormatFloat(float64(mb)/1024, 'f', 1, 64) + "G"
	}
	return strconv.FormatFloat(float64(mb)/(1024*1024), 'f', 1, 64) + "T"
}

// count formats n with thousands separators: 12,345.
func count[N ~int | ~int64 | ~uint64](n N) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// plural is "1 line" or "12,345 lines".
func plural[N ~int | ~int64 | ~uint64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return count(n) + " " + many
}

// fit cuts s to width display cells (ending in … when cut) and pads it
// with spaces to exactly width; right aligns it.
func fit(s string, width int, right bool) string {
	if width <= 0 {
		return ""
	}
	w := ansi.StringWidth(s)
	if w > width {
		s = ansi.Truncate(s, width, "…")
		w = ansi.StringWidth(s)
	}
	pad := strings.Repeat(" ", width-w)
	if right {
		return pad + s
	}
	return s + pad
}

// clip cuts s to width display cells without padding.
func clip(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// sanitize makes one line of an application's output safe to draw: escape
// sequences and control characters are removed and tabs expanded.
func sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	s = ansi.Strip(s)
	var b strings.Builder
	col := 0
	for _, r := range s {
		switch {
		case r == '\t':
			n := 4 - col%4
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case r < 0x20 || r == 0x7f:
			// dropped: a stray control character would move the cursor
		default:
			b.WriteRune(r)
			col++
		}
	}
	return b.String()
}
