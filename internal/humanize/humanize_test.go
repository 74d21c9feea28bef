package humanize

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 59 * time.Second: "59s", 65 * time.Second: "1m05s",
		2*time.Hour + 3*time.Minute: "2h03m", 50 * time.Hour: "2d02h",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
	now := time.Now()
	if Since(now, time.Time{}) != "-" || Since(now, now.Add(-90*time.Second)) != "1m30s" {
		t.Error("Since")
	}
}
