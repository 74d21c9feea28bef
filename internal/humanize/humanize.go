// Package humanize formats figures for people reading a terminal, the
// same way in alohactl's tables and in its terminal UI.
package humanize

import (
	"fmt"
	"time"
)

// Duration shortens a duration to its two largest units, to the second:
// 59s, 1m05s, 2h03m, 2d02h. Negative durations read as 0s.
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// Since is Duration(now - t), or "-" for a zero time.
func Since(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return Duration(now.Sub(t))
}
