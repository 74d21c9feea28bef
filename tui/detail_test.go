package tui

import (
	"strings"
	"testing"

	"github.com/alohasched/aloha/api"
	tea "github.com/charmbracelet/bubbletea"
)

func TestDetailShowsSpecHistoryAndLogs(t *testing.T) {
	src := sampleCluster()
	src.logs["app-20250601115000-0003/stdout"] = "first line\nsecond\tline\x1b[31m red\x1b[0m\npartial"
	src.logs["app-20250601115000-0003/stderr"] = "an error\n"
	m := loaded(t, src)
	drive(t, m, press(m, "enter"))
	v := m.View()
	for _, want := range []string{
		"[4 Detail app-20250601115000-0003]", "sleeper", "RUNNING", "on 10.0.0.2:7078",
		"kind       shell", "args       run sleeper", "resources  1 core, 2.0G", "HISTORY",
		"Logs stdout", "follow:on", "first line", "second  line red", "partial", "ended",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "\x1b") {
		t.Errorf("escape sequences of the output reached the screen: %q", v)
	}
	drive(t, m, press(m, "o"))
	if v := m.View(); !strings.Contains(v, "Logs stderr") || !strings.Contains(v, "an error") || strings.Contains(v, "first line") {
		t.Errorf("after o:\n%s", v)
	}
	if len(src.streams) != 2 || src.streams[1] != api.Stderr {
		t.Errorf("streams read %v, want stdout then stderr", src.streams)
	}
	press(m, "esc")
	if v := m.View(); !strings.Contains(v, "[1 Apps]") {
		t.Errorf("esc from the detail:\n%s", v)
	}
	// l opens the logs full screen: no spec.
	drive(t, m, press(m, "l"))
	if v := m.View(); strings.Contains(v, "HISTORY") || !strings.Contains(v, "Logs stderr") {
		t.Errorf("l (the same app: the stream chosen stays) shows:\n%s", v)
	}
	press(m, "l")
	if v := m.View(); !strings.Contains(v, "HISTORY") {
		t.Errorf("l again shows:\n%s", v)
	}
}

func TestLogViewKeys(t *testing.T) {
	src := sampleCluster()
	var out strings.Builder
	for i := range 100 {
		out.WriteString("line " + itoa(i) + " " + strings.Repeat("x", 200) + "\n")
	}
	src.logs["app-20250601115000-0003/stdout"] = out.String()
	m := loaded(t, src)
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	drive(t, m, press(m, "l"))
	p := m.detail.logs
	if v := m.View(); !strings.Contains(v, "line 99 ") || strings.Contains(v, "line 10 ") {
		t.Errorf("following, the last line is not shown:\n%s", v)
	}
	press(m, "g")
	if v := m.View(); !strings.Contains(v, "line 0 ") || p.follow || !strings.Contains(v, "follow:off") {
		t.Errorf("g does not go to the top:\n%s", v)
	}
	press(m, "j", "j", "pgdown")
	if p.top != 2+int64(p.rows()) {
		t.Errorf("j j pgdown: top %d, want %d", p.top, 2+p.rows())
	}
	press(m, "G")
	if !p.follow {
		t.Errorf("G does not follow")
	}
	press(m, "s")
	if p.follow || !strings.Contains(m.View(), "follow:off") {
		t.Errorf("s does not stop autoscroll")
	}
	press(m, "w")
	v := m.View()
	if !p.wrap || !strings.Contains(v, "wrap:on") {
		t.Errorf("w does not wrap:\n%s", v)
	}
	press(m, "t")
	if !p.stamps || !strings.Contains(m.View(), "timestamps:on") {
		t.Errorf("t does not show timestamps")
	}
	m.Update(tea.MouseMsg{Action: tea.MouseActionPress, Button: tea.MouseButtonWheelUp})
	if p.follow {
		t.Errorf("the wheel up keeps following")
	}
}

func itoa(i int) string { return count(i) }

func TestLogRingSaysWhatItDropped(t *testing.T) {
	b := newLogBuf(5)
	var sp splitter
	for i := range 12 {
		b.add(sp.write([]byte("line "+itoa(i)+"\n"), t0))
	}
	if b.first() != 7 || b.end() != 12 {
		t.Fatalf("ring holds [%d, %d), want [7, 12)", b.first(), b.end())
	}
	for i := b.first(); i < b.end(); i++ {
		if got := b.line(i).text; got != "line "+itoa(int(i)) {
			t.Errorf("line %d = %q", i, got)
		}
	}
	// One write larger than the ring keeps its last lines, in order.
	b.add([]logLine{{text: "a"}, {text: "b"}, {text: "c"}, {text: "d"}, {text: "e"}, {text: "f"}, {text: "g"}})
	if b.first() != 14 || b.line(14).text != "c" || b.line(18).text != "g" {
		t.Errorf("after a big write: first %d, lines %q…%q", b.first(), b.line(b.first()).text, b.line(b.end()-1).text)
	}
	p := newLogPane(newTestModel(t, sampleCluster()).st, 5)
	p.buf = b
	p.SetSize(80, 10)
	p.home()
	if v := p.View(); !strings.Contains(v, "… 14 earlier lines not shown (the view keeps the last 5)") || !strings.Contains(v, "14 earlier dropped") {
		t.Errorf("the pane does not say what it dropped:\n%s", v)
	}
}

func TestSplitter(t *testing.T) {
	var sp splitter
	var got []string
	for _, w := range []string{"one\ntw", "o\r\nthr", "ee", "\n\tfour\x07\nfive"} {
		for _, l := range sp.write([]byte(w), t0) {
			got = append(got, l.text)
		}
	}
	for _, l := range sp.flush(t0) {
		got = append(got, l.text)
	}
	want := []string{"one", "two", "three", "    four", "five"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", got, want)
	}
	long := sp.write([]byte(strings.Repeat("y", maxLineBytes+10)), t0)
	if len(long) != 1 || len(long[0].text) != maxLineBytes || len(sp.flush(t0)[0].text) != 10 {
		t.Errorf("a long line was not cut at %d bytes", maxLineBytes)
	}
}
