// Package testutil holds helpers shared by the tests of several packages:
// waiting on conditions with deadlines instead of sleeping.
package testutil

import (
	"testing"
	"time"
)

// WaitFor polls cond every few milliseconds until it returns nil or total
// passes, then fails the test with the last error.
func WaitFor(t testing.TB, total time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	delay := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", total, err)
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}
