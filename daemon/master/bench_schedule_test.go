package master

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// ---- BenchmarkSchedulePass ----

func benchSlots(n, cores int) []slot {
	kinds := map[string]bool{"shell": true}
	slots := make([]slot, n)
	for i := range slots {
		slots[i] = slot{id: fmt.Sprintf("worker-20260101000000-10.0.%d.%d-7078", i/256, i%256),
			coresFree: cores, memoryFree: 64 << 10, cores: cores, memory: 64 << 10, kinds: kinds}
	}
	return slots
}

func benchDemands(n int) []demand {
	d := make([]demand, n)
	for i := range d {
		d[i] = demand{id: fmt.Sprintf("app-20260101000000-%04d", i), kind: "shell", cores: 1, memory: 1}
	}
	return d
}

// scanSink keeps the baseline's result alive.
var scanSink int

// linearScan is the baseline: FIFO first fit that looks at every worker
// once per app and takes the first with a free core, the least any FIFO
// placement over unsorted workers must do.
func linearScan(waiting []demand, free []int) int {
	placed := 0
	for range waiting {
		best := -1
		for i, f := range free {
			if f > 0 && (best < 0 || f > free[best]) {
				best = i
			}
		}
		if best >= 0 {
			free[best]--
			placed++
		}
	}
	return placed
}

// timeIt runs f (after setup, untimed) until at least minTime has been
// measured and returns the mean time per call.
func timeIt(minTime time.Duration, setup func(), f func()) time.Duration {
	var total time.Duration
	n := 0
	for total < minTime || n < 3 {
		if setup != nil {
			setup()
		}
		start := time.Now()
		f()
		total += time.Since(start)
		n++
	}
	return total / time.Duration(n)
}

// loopMaster is a master that is not running, with workers registered by
// hand, for calling the loop-only schedule() from the benchmark: nothing
// else touches its state. Launch orders pile up in outboxes that send
// nothing.
func loopMaster(b *testing.B, workers, cores int) *Master {
	b.Helper()
	node, err := wire.NewNode(wire.Config{Registry: api.NewRegistry(), Logger: benchQuiet()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { node.Close() })
	m, err := New(Options{Node: node, URL: "aloha://127.0.0.1:7077", Log: benchQuiet(),
		WorkerTimeout: scaleTimeout, DeadWorkerPersistence: 15, SpreadOut: true, RetainedApps: scaleApps, Kinds: []string{"shell"}})
	if err != nil {
		b.Fatal(err)
	}
	// Outboxes whose goroutine has ended: orders queue up, unsent.
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	var wg sync.WaitGroup
	now := time.Now()
	m.state = api.MasterAlive
	m.epoch = 1
	m.ids = api.NewAppIDs(now)
	for _, s := range benchSlots(workers, cores) {
		w := &worker{apps: map[string]*app{}, kinds: s.kinds, connected: true,
			out: newOutbox(stopped, &wg, node, wire.Address{Host: "127.0.0.1:1", Name: api.WorkerEndpoint}, benchQuiet(), nil)}
		w.info = api.WorkerInfo{ID: s.id, Addr: s.id, State: api.WorkerAlive, Cores: s.cores, Memory: s.memory, LastHeartbeat: now}
		m.workers[s.id] = w
		m.byAddr[s.id] = w
	}
	wg.Wait()
	return m
}

// queueApps puts n fresh apps in the master's waiting queue. Loop-only.
func queueApps(m *Master, n int) {
	now := time.Now()
	for i := range n {
		spec := api.AppSpec{Name: "a-" + strconv.Itoa(i), EntryPoint: "shell", Args: "true", Cores: 1, Memory: 1}.WithDefaults()
		m.addApp(&app{info: api.AppInfo{ID: m.ids.Next(now), Spec: spec, SubmittedAt: now}}, now)
	}
}

// resetLoopMaster forgets every app and frees every worker. Loop-only.
func resetLoopMaster(m *Master) {
	clear(m.apps)
	m.waiting = nil
	for _, w := range m.workers {
		clear(w.apps)
		w.info.CoresUsed, w.info.MemoryUsed = 0, 0
		w.out.mu.Lock()
		w.out.queue = nil
		w.out.mu.Unlock()
	}
}

// BenchmarkSchedulePass: the time of one scheduling pass over 1,000
// workers of 4 free cores each, per app placed (goal < 1 ms per app):
//
//   - schedule(): the pure function, 1,000 waiting one-core apps, all placed;
//   - loop: the master's schedule() on the same (a Master not running, fed by
//     hand): snapshot, placement, state changes, events and launch orders;
//   - backed-up: the loop's pass when 100,000 apps wait and every core is
//     taken, which places nothing and runs whenever anything happens while
//     the queue is long;
//
// next to the baseline, a FIFO first fit scanning the 1,000 workers once
// per app.
func BenchmarkSchedulePass(b *testing.B) {
	const n = scaleWorkers
	slots := benchSlots(scaleWorkers, scaleWorkerCores)
	demands := benchDemands(n)
	m := loopMaster(b, scaleWorkers, scaleWorkerCores)
	full := loopMaster(b, scaleWorkers, scaleWorkerCores)
	var lines []string
	for b.Loop() {
		if lines != nil {
			continue // measured already
		}
		minTime := 300 * time.Millisecond
		free := make([]int, len(slots))
		base := timeIt(minTime, func() {
			for i := range free {
				free[i] = scaleWorkerCores
			}
		}, func() { scanSink += linearScan(demands, free) })
		var placed int
		pure := timeIt(minTime, nil, func() { placed = len(schedule(demands, slots, true)) })
		if placed != n {
			b.Fatalf("schedule placed %d of %d", placed, n)
		}
		loop := timeIt(minTime, func() {
			resetLoopMaster(m)
			queueApps(m, n)
		}, func() { m.schedule() })
		if len(m.waiting) != 0 {
			b.Fatalf("loop schedule left %d waiting", len(m.waiting))
		}
		// Fill every core, then queue 100,000 more.
		queueApps(full, scaleWorkers*scaleWorkerCores)
		full.schedule()
		queueApps(full, scaleApps)
		backed := timeIt(minTime, nil, func() { full.schedule() })
		if len(full.waiting) != scaleApps {
			b.Fatalf("backed-up pass: %d waiting, want %d", len(full.waiting), scaleApps)
		}
		per := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / n }
		b.ReportMetric(per(pure), "pure-µs/app")
		b.ReportMetric(per(loop), "loop-µs/app")
		b.ReportMetric(per(base), "scan-µs/app")
		b.ReportMetric(per(pure)/per(base), "pure-ratio")
		b.ReportMetric(per(loop)/per(base), "loop-ratio")
		b.ReportMetric(float64(backed)/float64(time.Millisecond), "backed-up-pass-ms")
		lines = []string{
			fmt.Sprintf("scheduling pass, %d apps onto %d workers × %d cores: schedule() %.1f µs/app | loop schedule() %.1f µs/app | baseline scan %.1f µs/app | ratio %.2fx, %.2fx (goal < 1000 µs/app)",
				n, scaleWorkers, scaleWorkerCores, per(pure), per(loop), per(base), per(pure)/per(base), per(loop)/per(base)),
			fmt.Sprintf("backed-up pass, %d waiting, every core taken: %.3f ms per pass that places nothing (%.3f µs per waiting app; %.2fx a %d-app placement pass)",
				scaleApps, float64(backed)/float64(time.Millisecond), float64(backed)/float64(time.Microsecond)/scaleApps, float64(backed)/float64(loop), n),
		}
	}
	b.Log("\n" + strings.Join(lines, "\n"))
}
