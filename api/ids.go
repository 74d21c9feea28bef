package api

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// idTimeLayout is the timestamp inside ids (UTC, to the second).
const idTimeLayout = "20060102150405"

var appIDPattern = regexp.MustCompile(`^app-(\d{14})-(\d{4,})$`)

// AppIDs issues application ids of the form app-YYYYMMDDHHMMSS-NNNN.
//
// The originals restart their counter at zero with every master, so a
// master restarted within the same second can issue an id twice. Here the
// timestamp of every id is at least one second past both the generator's
// start and every id it was told of with Observe (a recovering master
// observes all stored ids), so a new generator never repeats an id an older
// one issued; within one generator the counter never goes back.
type AppIDs struct {
	mu    sync.Mutex
	floor time.Time // no id carries an earlier timestamp
	next  int
}

// NewAppIDs returns a generator started at start.
func NewAppIDs(start time.Time) *AppIDs {
	return &AppIDs{floor: start.UTC().Truncate(time.Second).Add(time.Second)}
}

// Observe raises the floor past an id issued elsewhere (by an earlier
// master); ids that do not parse are ignored.
func (g *AppIDs) Observe(id string) {
	ts, _, ok := ParseAppID(id)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if f := ts.Add(time.Second); f.After(g.floor) {
		g.floor = f
	}
}

// Next returns a new id for an application submitted at now.
func (g *AppIDs) Next(now time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	ts := now.UTC().Truncate(time.Second)
	if ts.Before(g.floor) {
		ts = g.floor
	}
	n := g.next
	g.next++
	return fmt.Sprintf("app-%s-%04d", ts.Format(idTimeLayout), n)
}

// ParseAppID splits an application id into its timestamp and number.
func ParseAppID(id string) (time.Time, int, bool) {
	m := appIDPattern.FindStringSubmatch(id)
	if m == nil {
		return time.Time{}, 0, false
	}
	ts, err := time.Parse(idTimeLayout, m[1])
	if err != nil {
		return time.Time{}, 0, false
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return time.Time{}, 0, false
	}
	return ts, n, true
}

// ValidAppID says whether id has the form of an application id.
func ValidAppID(id string) bool {
	_, _, ok := ParseAppID(id)
	return ok
}

// WorkerID returns the id of a worker at host:port registered at t, of the
// form worker-YYYYMMDDHHMMSS-host-port.
func WorkerID(t time.Time, host string, port int) string {
	return fmt.Sprintf("worker-%s-%s-%d", t.UTC().Format(idTimeLayout), host, port)
}
