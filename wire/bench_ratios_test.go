package wire_test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// sideStats accumulates one transport's rounds of one scenario.
type sideStats struct {
	ops     int64
	elapsed time.Duration
	rates   []float64 // ops/s of each round
	lat     []time.Duration
}

func (s *sideStats) rate() float64 { return float64(s.ops) / s.elapsed.Seconds() }

// BenchmarkRatios measures wire and net/rpc alternately, round by round
// (ratioRounds rounds of ratioRoundTime per side and scenario, the order
// flipping every round), so that both see the same machine load, and logs
// a table of wire ÷ net/rpc: for ops/s higher is better, for latencies
// lower is better. It measures once, in the first b.Loop iteration, however
// many iterations -benchtime asks for, so its ns/op means nothing.
func BenchmarkRatios(b *testing.B) {
	sides := startBoth(b)
	scenarios := []struct {
		name, metric string
		callers      int // 0: one-way sends
	}{
		{"ask-1", "ask1", 1},
		{"ask-64", "ask64", 64},
		{"send", "send", 0},
	}
	var table []string
	latBuf := make([][]time.Duration, 64)
	for b.Loop() {
		if table != nil {
			continue // measured already; see above
		}
		table = append(table, "ratio = wire ÷ net/rpc: ops/s higher is better, latency lower is better; per-round ops/s ratios below each row")
		for _, sc := range scenarios {
			var st [2]sideStats
			for r := range ratioRounds {
				order := []int{0, 1}
				if r%2 == 1 {
					order = []int{1, 0}
				}
				for _, i := range order {
					runtime.GC()
					var (
						ops     int64
						elapsed time.Duration
						err     error
					)
					if sc.callers == 0 {
						ops, elapsed, err = sendFor(sides[i], ratioRoundTime)
					} else {
						for g := range latBuf {
							latBuf[g] = latBuf[g][:0]
						}
						ops, elapsed, err = askFor(sides[i], sc.callers, ratioRoundTime, latBuf[:sc.callers])
						for _, l := range latBuf[:sc.callers] {
							st[i].lat = append(st[i].lat, l...)
						}
					}
					if err != nil {
						b.Fatalf("%s %s: %v", sc.name, sides[i].name, err)
					}
					st[i].ops += ops
					st[i].elapsed += elapsed
					st[i].rates = append(st[i].rates, float64(ops)/elapsed.Seconds())
				}
			}
			w, n := &st[0], &st[1]
			ratio := w.rate() / n.rate()
			b.ReportMetric(ratio, "ratio-"+sc.metric)
			var row string
			if sc.callers == 0 {
				row = fmt.Sprintf("%-7s wire %8.0f ops/s | net/rpc %8.0f ops/s | ratio %.2fx",
					sc.name, w.rate(), n.rate(), ratio)
			} else {
				slices.Sort(w.lat)
				slices.Sort(n.lat)
				w50, w99 := percentile(w.lat, 0.5), percentile(w.lat, 0.99)
				n50, n99 := percentile(n.lat, 0.5), percentile(n.lat, 0.99)
				row = fmt.Sprintf("%-7s wire %8.0f ops/s p50 %6.1fµs p99 %6.1fµs | net/rpc %8.0f ops/s p50 %6.1fµs p99 %6.1fµs | ratio %.2fx (p50 %.2fx, p99 %.2fx)",
					sc.name, w.rate(), micros(w50), micros(w99), n.rate(), micros(n50), micros(n99),
					ratio, micros(w50)/micros(n50), micros(w99)/micros(n99))
				b.ReportMetric(micros(w50)/micros(n50), "p50ratio-"+sc.metric)
				b.ReportMetric(micros(w99)/micros(n99), "p99ratio-"+sc.metric)
			}
			rounds := make([]string, len(w.rates))
			for i := range w.rates {
				rounds[i] = fmt.Sprintf("%.2f", w.rates[i]/n.rates[i])
			}
			table = append(table, row, "        rounds: "+strings.Join(rounds, " "))
		}
	}
	// The testing package keeps at most 10 lines of a benchmark's log.
	b.Log("\n" + strings.Join(table, "\n"))
}
