package master

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// ---- BenchmarkMasterAtScale ----

// heapAlloc is the live heap after two full collections.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	return st.HeapAlloc
}

// BenchmarkMasterAtScale runs a master in this process (New and Run, no
// store, RetainedApps 100,000, worker timeout 600 s) with 1,000 simulated
// workers of 4 cores (each a wire node with its own loopback listener,
// heartbeating every 15 s, answering each LaunchApp with RUNNING then
// FINISHED), submits 100,000 one-core apps from 64 concurrent wire clients
// and waits until all are FINISHED, then times 200 submissions one at a
// time on the idle master. Goals: master < 500 MB, < 1 ms per app placed.
//
// Heap: HeapAlloc after runtime.GC() is read (0) before the master starts,
// (1) once it runs with the fleet registered, (2) after the apps. The fleet
// lives in this process too, so (1)-(0) is master and fleet together;
// (2)-(1) is what the retained apps cost, which only the master holds: the
// fleet keeps nothing per app and the benchmark's own records are
// allocated before (1). BenchmarkMasterProcessAtScale measures the RSS of
// a master process alone.
//
// Placement: submit → LaunchApp arrival at the simulated worker, next to
// the round trip of an Ask that does O(1) work in the master's loop (the
// status of an unknown app), measured alternately in the same phase.
func BenchmarkMasterAtScale(b *testing.B) {
	var lines []string
	for b.Loop() {
		if lines != nil {
			continue // measured already
		}
		lines = masterAtScale(b)
	}
	b.Log("\n" + strings.Join(lines, "\n"))
}

func masterAtScale(b *testing.B) []string {
	heap0 := heapAlloc()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	node, err := wire.NewNode(wire.Config{Registry: api.NewRegistry(), Logger: benchQuiet(), AdvertiseAddr: ln.Addr().String()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = node.Serve(ctx, ln)
	}()
	m, err := New(Options{Node: node, URL: wire.Scheme + ln.Addr().String(), Log: benchQuiet(),
		WorkerTimeout: scaleTimeout, DeadWorkerPersistence: 15, SpreadOut: true, RetainedApps: scaleApps, Kinds: []string{"shell"}})
	if err != nil {
		b.Fatal(err)
	}
	var runErr error
	ran := make(chan struct{})
	go func() {
		runErr = m.Run(ctx)
		close(ran)
	}()
	// Cleanups run last first: the fleet and the client stop before this.
	b.Cleanup(func() {
		cancel()
		<-ran
		if runErr != nil {
			b.Errorf("master Run = %v", runErr)
		}
		node.Close()
		<-served
	})
	select {
	case <-m.Ready():
	case <-ran:
		b.FailNow() // the cleanup reports why
	}
	var heap1 uint64
	r := runScale(b, ln.Addr().String(), func() { heap1 = heapAlloc() })
	heap2 := heapAlloc()
	runtime.KeepAlive(r)
	retained := max(r.info.CompletedApps, 1)
	perApp := float64(heap2-heap1) / float64(retained)
	b.ReportMetric(mib(heap2-heap0), "heap-MiB")
	b.ReportMetric(mib(heap2-heap1), "retained-heap-MiB")
	b.ReportMetric(perApp, "B/retained-app")
	return append(r.lines(b, "in process"),
		fmt.Sprintf("        heap (HeapAlloc after GC): master+fleet %.1f MiB with no app, %.1f MiB with %d retained: the retained apps cost %.1f MiB, %.0f B each (goal: master < 500 MB)",
			mib(heap1-heap0), mib(heap2-heap0), r.info.CompletedApps, mib(heap2-heap1), perApp))
}
