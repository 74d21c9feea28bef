package tui

import (
	"context"
	"errors"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Run shows the UI on the terminal until the user quits or ctx ends. The
// terminal is restored however it ends, a panic included (bubbletea
// recovers panics in Update, View and commands, and every goroutine of
// the UI runs as a command).
func Run(ctx context.Context, src Source, opts Options) error {
	out := opts.Output
	if out == nil {
		out = os.Stdout
	}
	r := lipgloss.NewRenderer(out)
	color := !opts.NoColor && os.Getenv("NO_COLOR") == ""
	if !color {
		r.SetColorProfile(termenv.Ascii)
	}
	// Asked before the program reads the terminal: the answer to the
	// query would otherwise arrive as keys.
	dark := r.HasDarkBackground()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := New(ctx, src, opts, r, color, dark)
	popts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx), tea.WithOutput(out)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil && !errors.Is(err, tea.ErrProgramPanic) {
		return ctx.Err()
	}
	return err
}
