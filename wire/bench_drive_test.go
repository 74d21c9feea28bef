package wire_test

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// warmUp opens the connection and gets the first-use costs (handshake, gob
// type descriptions, pools) out of the measurements.
func warmUp(b *testing.B, t *transport) {
	b.Helper()
	if _, _, err := askFor(t, 4, 50*time.Millisecond, nil); err != nil {
		b.Fatalf("%s: warm-up ask: %v", t.name, err)
	}
	if _, _, err := sendFor(t, 20*time.Millisecond); err != nil {
		b.Fatalf("%s: warm-up send: %v", t.name, err)
	}
}

// runAsks makes n asks from callers goroutines and stores the latency of ask
// i in lat[i].
func runAsks(t *transport, callers, n int, lat []time.Duration) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &BenchMsg{Text: benchText}
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				m.N = int(i)
				t0 := time.Now()
				r, err := t.ask(m)
				lat[i] = time.Since(t0)
				if err == nil && (r.N != m.N || r.Text != m.Text) {
					err = fmt.Errorf("%s: reply %d does not echo ask %d", t.name, r.N, m.N)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// askFor asks from callers goroutines for about d. If lat is not nil,
// caller g appends its latencies to lat[g].
func askFor(t *transport, callers int, d time.Duration, lat [][]time.Duration) (ops int64, elapsed time.Duration, err error) {
	var (
		total    atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		stop     atomic.Bool
	)
	start := time.Now()
	deadline := start.Add(d)
	for g := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &BenchMsg{Text: benchText}
			var n int64
			defer func() { total.Add(n) }()
			for !stop.Load() {
				t0 := time.Now()
				if t0.After(deadline) {
					return
				}
				m.N = int(n)
				r, err := t.ask(m)
				l := time.Since(t0)
				if err == nil && (r.N != m.N || r.Text != m.Text) {
					err = fmt.Errorf("%s: reply %d does not echo ask %d", t.name, r.N, m.N)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					stop.Store(true)
					return
				}
				n++
				if lat != nil {
					lat[g] = append(lat[g], l)
				}
			}
		}()
	}
	wg.Wait()
	return total.Load(), time.Since(start), firstErr
}

// runSends sends n one-way messages and waits until the server has handled
// them all.
func runSends(t *transport, n int) error {
	t.sink.start()
	done := t.sink.expect(int64(n))
	m := &BenchMsg{Text: benchText}
	for i := range n {
		if err := t.sink.throttle(int64(i)); err != nil {
			return err
		}
		m.N = i
		if err := t.send(m); err != nil {
			return err
		}
	}
	return t.sink.wait(done)
}

// sendFor sends one-way messages for about d, then waits until the server
// has handled them all.
func sendFor(t *transport, d time.Duration) (ops int64, elapsed time.Duration, err error) {
	t.sink.start()
	m := &BenchMsg{Text: benchText}
	start := time.Now()
	deadline := start.Add(d)
	var sent int64
	for {
		if sent%64 == 0 && time.Now().After(deadline) {
			break
		}
		if err := t.sink.throttle(sent); err != nil {
			return 0, 0, err
		}
		m.N = int(sent)
		if err := t.send(m); err != nil {
			return 0, 0, err
		}
		sent++
	}
	if err := t.sink.wait(t.sink.expect(sent)); err != nil {
		return 0, 0, err
	}
	return sent, time.Since(start), nil
}

// percentile returns the p-quantile (0 < p <= 1) of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
