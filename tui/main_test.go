package tui

import (
	"testing"

	"go.uber.org/goleak"
)

// Every reader the tests start must stop: the event and log readers end
// with their context, commands with their answer. bubbletea itself leaves
// a tick command sleeping after a program ends (it cannot cancel
// commands), so that one is let be.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/charmbracelet/bubbletea.Tick.func1"),
		goleak.IgnoreAnyFunction("github.com/charmbracelet/bubbletea.(*Program).execBatchMsg"))
}
