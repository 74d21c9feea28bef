package wire_test

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

// startBoth starts both transports, wire first.
func startBoth(b *testing.B) []*transport {
	return []*transport{startWire(b), startNetRPC(b)}
}

func BenchmarkAsk1(b *testing.B) { benchAsk(b, 1) }

func BenchmarkAsk64(b *testing.B) { benchAsk(b, 64) }

func benchAsk(b *testing.B, callers int) {
	for _, t := range startBoth(b) {
		b.Run(t.name, func(b *testing.B) {
			lat := make([]time.Duration, b.N)
			runtime.GC()
			b.ResetTimer()
			start := time.Now()
			err := runAsks(t, callers, b.N, lat)
			elapsed := time.Since(start)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
			b.ReportMetric(micros(percentile(lat, 0.50)), "p50-µs")
			b.ReportMetric(micros(percentile(lat, 0.99)), "p99-µs")
		})
	}
}

func BenchmarkSend(b *testing.B) {
	for _, t := range startBoth(b) {
		b.Run(t.name, func(b *testing.B) {
			runtime.GC()
			b.ResetTimer()
			start := time.Now()
			err := runSends(t, b.N)
			elapsed := time.Since(start)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
		})
	}
}
