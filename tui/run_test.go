package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/alohasched/aloha/api"
	tea "github.com/charmbracelet/bubbletea"
)

// panicky is a cluster whose MasterInfo panics.
type panicky struct{ *fakeSource }

func (panicky) MasterInfo(context.Context) (*api.MasterInfo, error) { panic("a bug") }

// The terminal is restored when the user quits and when the program
// panics: alternate screen left, cursor shown, mouse reporting off.
func TestRunRestoresTheTerminal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		src   Source
		keys  string
		panic bool
	}{
		{"quit", &fakeSource{follow: make(chan api.Event)}, "q", false},
		{"panic", panicky{&fakeSource{follow: make(chan api.Event)}}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, keys := io.Pipe()
			defer keys.Close()
			var out bytes.Buffer
			done := make(chan error, 1)
			go func() { done <- Run(t.Context(), tc.src, Options{Input: in, Output: &out, NoColor: true}) }()
			if tc.keys != "" {
				keys.Write([]byte(tc.keys))
			}
			err := <-done
			if tc.panic != errors.Is(err, tea.ErrProgramPanic) || (!tc.panic && err != nil) {
				t.Errorf("Run = %v", err)
			}
			s := out.String()
			enter := strings.LastIndex(s, "\x1b[?1049h")
			for _, seq := range []string{"\x1b[?1049l", "\x1b[?25h", "\x1b[?1002l", "\x1b[?1006l"} {
				if i := strings.LastIndex(s, seq); i < enter || enter < 0 {
					t.Errorf("the output does not end by restoring %q (entered alt screen at %d, restored at %d)", seq, enter, i)
				}
			}
		})
	}
}

// tui reaches the cluster only through client and api (and the wire
// they stand on), plus the formatting it shares with alohactl: never
// daemon, never cmd.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/alohasched/aloha/"
	allowed := map[string]bool{mod + "api": true, mod + "client": true, mod + "wire": true, mod + "tui": true, mod + "internal/humanize": true}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, mod) && !allowed[p] {
			t.Errorf("tui depends on %s; it may use only api and client", p)
		}
	}
}
