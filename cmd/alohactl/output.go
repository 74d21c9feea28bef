package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/alohasched/aloha/internal/humanize"
)

// ANSI colours for states. Every coloured cell carries the same number of
// invisible bytes (a 5-byte colour and a 4-byte reset), uncoloured ones
// and headers included, so tabwriter's columns stay aligned.
const (
	ansiGreen   = "\x1b[32m"
	ansiRed     = "\x1b[31m"
	ansiYellow  = "\x1b[33m"
	ansiCyan    = "\x1b[36m"
	ansiMagenta = "\x1b[35m"
	ansiDefault = "\x1b[39m"
	ansiReset   = "\x1b[0m"
)

// stateColors colours application and worker states.
var stateColors = map[string]string{
	"SUBMITTED": ansiYellow, "LAUNCHING": ansiCyan, "RUNNING": ansiCyan,
	"FINISHED": ansiGreen, "FAILED": ansiRed, "ERROR": ansiRed, "KILLED": ansiMagenta,
	"RELAUNCHING": ansiYellow, "UNKNOWN": ansiDefault,
	"ALIVE": ansiGreen, "DEAD": ansiRed, "DECOMMISSIONED": ansiYellow,
}

// paint colours a state when on is set.
func paint(on bool, state string) string {
	if !on {
		return state
	}
	c, ok := stateColors[state]
	if !ok {
		c = ansiDefault
	}
	return c + state + ansiReset
}

// header keeps a table header aligned with painted cells below it.
func header(on bool, s string) string {
	if !on {
		return s
	}
	return ansiDefault + s + ansiReset
}

// newTable returns a tabwriter for an aligned table; cells are separated
// by tabs and the caller flushes it.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one table row.
func row(tw io.Writer, cells ...string) {
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// lineWriter serialises writes of JSON lines and raw output from several
// goroutines to one writer.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// jsonLine writes v as one line of JSON.
func (l *lineWriter) jsonLine(v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // Encode ends the line
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.w.Write(b.Bytes())
	return err
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// outputLine is one line of an application's output in JSON form
// (logs -o json, submit --wait -o json).
type outputLine struct {
	Type   string `json:"type"` // always "Output"
	AppID  string `json:"appId"`
	Stream string `json:"stream"`
	Line   string `json:"line"`
}

// jsonLines turns an application's output into outputLine objects, one
// per line; Close writes a last line that lacked its newline.
type jsonLines struct {
	out    *lineWriter
	appID  string
	stream string
	buf    []byte
}

func (j *jsonLines) Write(p []byte) (int, error) {
	j.buf = append(j.buf, p...)
	for {
		i := bytes.IndexByte(j.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if err := j.emit(string(j.buf[:i])); err != nil {
			return 0, err
		}
		j.buf = j.buf[i+1:]
	}
}

func (j *jsonLines) Close() error {
	if len(j.buf) == 0 {
		return nil
	}
	line := string(j.buf)
	j.buf = nil
	return j.emit(line)
}

func (j *jsonLines) emit(line string) error {
	return j.out.jsonLine(outputLine{Type: "Output", AppID: j.appID, Stream: j.stream, Line: line})
}

// since formats the time from t to now as an age ("42s", "3m05s",
// since is how long ago t was, or "-" for a zero time.
func since(t, now time.Time) string { return humanize.Since(now, t) }

// human formats a duration for a table: short, to the second.
func human(d time.Duration) string { return humanize.Duration(d) }

// megabytes formats a memory size in MB with the largest whole unit.
func megabytes(mb int) string {
	switch {
	case mb != 0 && mb%(1<<20) == 0:
		return fmt.Sprintf("%dT", mb>>20)
	case mb != 0 && mb%1024 == 0:
		return fmt.Sprintf("%dG", mb>>10)
	}
	return fmt.Sprintf("%dM", mb)
}

// stamp formats an instant for tables and streams, in local time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
