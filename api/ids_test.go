package api

import (
	"regexp"
	"testing"
	"time"
)

func TestAppIDFormat(t *testing.T) {
	g := NewAppIDs(time.Date(2019, 3, 11, 22, 17, 30, 500, time.UTC))
	id := g.Next(time.Date(2019, 3, 11, 22, 17, 31, 0, time.UTC))
	if id != "app-20190311221731-0000" {
		t.Fatalf("first id = %s, want app-20190311221731-0000", id)
	}
	if id := g.Next(time.Date(2019, 3, 11, 22, 17, 31, 0, time.UTC)); id != "app-20190311221731-0001" {
		t.Fatalf("second id = %s", id)
	}
	if !ValidAppID(id) || ValidAppID("app-2019-1") || ValidAppID("worker-20190311221731-h-1") {
		t.Fatal("ValidAppID wrong")
	}
}

// Ids never repeat, also across generators (master restarts in the same
// second, or a new leader that observed the old one's ids).
func TestAppIDsUniqueAcrossRestarts(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	seen := map[string]bool{}
	var last string
	for restart := range 5 {
		g := NewAppIDs(now) // every restart within the same second
		if last != "" {
			g.Observe(last)
		}
		for range 100 {
			id := g.Next(now)
			if seen[id] {
				t.Fatalf("restart %d issued %s twice", restart, id)
			}
			seen[id] = true
			last = id
		}
	}
	// A clock that goes backwards does not repeat ids either.
	g := NewAppIDs(now)
	a := g.Next(now)
	b := g.Next(now.Add(-time.Hour))
	if a == b {
		t.Fatalf("clock going back repeated %s", a)
	}
}

func TestWorkerID(t *testing.T) {
	got := WorkerID(time.Date(2019, 3, 11, 22, 17, 31, 0, time.UTC), "10.0.0.5", 40123)
	if !regexp.MustCompile(`^worker-20190311221731-10\.0\.0\.5-40123$`).MatchString(got) {
		t.Fatalf("WorkerID = %s", got)
	}
}
