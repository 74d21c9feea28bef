package tui

import (
	"bytes"
	"time"
)

// maxLineBytes splits a line longer than this (output without newlines)
// into pieces, so one line cannot take all the memory.
const maxLineBytes = 64 << 10

// logLine is one line of an application's output.
type logLine struct {
	text string
	at   time.Time // when it arrived; zero for output written before the view opened
}

// logBuf keeps the last capacity lines of an application's output in a
// ring. Lines leave only from the front, and are counted: the view can
// always say how many earlier lines it no longer has. Lines are numbered
// from the first ever added, so a position survives lines leaving.
type logBuf struct {
	ring     []logLine
	capacity int
	start    int   // ring index of the oldest line kept
	dropped  int64 // lines dropped from the front
}

func newLogBuf(capacity int) *logBuf {
	return &logBuf{capacity: max(capacity, 1)}
}

func (b *logBuf) add(lines []logLine) {
	if extra := len(lines) - b.capacity; extra > 0 {
		// These would only be overwritten by the rest.
		b.dropped += int64(extra)
		lines = lines[extra:]
	}
	for _, l := range lines {
		if len(b.ring) < b.capacity {
			b.ring = append(b.ring, l)
			continue
		}
		b.ring[b.start] = l
		b.start = (b.start + 1) % len(b.ring)
		b.dropped++
	}
}

// first is the number of the oldest line kept; end is one past the newest.
func (b *logBuf) first() int64 { return b.dropped }
func (b *logBuf) end() int64   { return b.dropped + int64(len(b.ring)) }

// line returns line number i, which must be in [first, end).
func (b *logBuf) line(i int64) logLine {
	return b.ring[(b.start+int(i-b.dropped))%len(b.ring)]
}

// splitter cuts a byte stream into lines; a line's end may come in a
// later write.
type splitter struct {
	partial []byte
}

// write returns the lines p completes, sanitised for drawing.
func (s *splitter) write(p []byte, at time.Time) []logLine {
	var out []logLine
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.partial = append(s.partial, p...)
			for len(s.partial) >= maxLineBytes {
				out = append(out, logLine{text: sanitize(string(s.partial[:maxLineBytes])), at: at})
				s.partial = append(s.partial[:0], s.partial[maxLineBytes:]...)
			}
			return out
		}
		line := p[:i]
		if len(s.partial) > 0 {
			line = append(s.partial, line...)
			s.partial = s.partial[:0]
		}
		text := string(bytes.TrimSuffix(line, []byte{'\r'}))
		out = append(out, logLine{text: sanitize(text), at: at})
		p = p[i+1:]
	}
	return out
}

// flush returns the last line if it had no newline.
func (s *splitter) flush(at time.Time) []logLine {
	if len(s.partial) == 0 {
		return nil
	}
	l := logLine{text: sanitize(string(s.partial)), at: at}
	s.partial = nil
	return []logLine{l}
}
