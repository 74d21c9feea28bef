package server_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkLaunchRate: apps launched per second end to end (submit through
// the Go API of an in-process alohad local until the app is FINISHED) vs the
// bare loop, the physical limit of this machine (DESIGN §11, goal ≥ 0.8×).
//
// Parallelism: the cluster has 2 workers of 2 cores and every app takes 1
// core, so 4 apps run at once; the bare loop runs 4 launchers, the same
// concurrency. On the 2-CPU machine this was written on, the bare loop's
// rate grows from 1 to about 4 launchers and not beyond (8 and 16 were no
// faster): 4 keeps both CPUs busy while launches wait in fork, exec and
// wait, so the bare side is at the machine's limit and the cluster is
// allowed as much. "CPUs busy" in the result shows whether a side was
// CPU-bound (close to the number of CPUs) or latency-bound. Each round runs
// launchApps apps per side, the order flipping every round.
//
// The figures depend on the file system of $TMPDIR (b.TempDir), since
// every launch creates a directory and files: run with TMPDIR=/dev/shm to
// take the disk out of the comparison.
func BenchmarkLaunchRate(b *testing.B) {
	parallel := launchWorkers * launchCores
	c := startLocal(b, launchWorkers, launchCores)
	root := b.TempDir()
	// Warm up both sides: page cache, first connections, goroutine stacks.
	if _, err := c.runCluster(2 * parallel); err != nil {
		b.Fatal(err)
	}
	if _, err := runBare(filepath.Join(root, "warm"), 2*parallel, parallel); err != nil {
		b.Fatal(err)
	}
	var report []string
	for b.Loop() {
		if report != nil {
			continue // measured already: once per run whatever -benchtime says
		}
		var clusterTime, bareTime time.Duration
		var clusterCPU, bareCPU cpuUse
		var rounds []string
		start := time.Now()
		for r := range launchRounds {
			if r > 0 && time.Since(start) > launchBudget {
				break
			}
			var ct, bt time.Duration
			sides := []func() error{
				func() (err error) {
					cpu0 := cpuTime()
					ct, err = c.runCluster(launchApps)
					clusterCPU = clusterCPU.add(cpuTime().sub(cpu0))
					return err
				},
				func() (err error) {
					cpu0 := cpuTime()
					bt, err = runBare(filepath.Join(root, "round-"+strconv.Itoa(r)), launchApps, parallel)
					bareCPU = bareCPU.add(cpuTime().sub(cpu0))
					return err
				},
			}
			if r%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
			for _, side := range sides {
				runtime.GC()
				if err := side(); err != nil {
					b.Fatalf("round %d: %v", r, err)
				}
			}
			clusterTime += ct
			bareTime += bt
			rounds = append(rounds, fmt.Sprintf("%.2f", bt.Seconds()/ct.Seconds()))
		}
		total := float64(launchApps * len(rounds))
		cRate, bRate := total/clusterTime.Seconds(), total/bareTime.Seconds()
		ratio := cRate / bRate
		b.ReportMetric(cRate, "cluster-apps/s")
		b.ReportMetric(bRate, "bare-apps/s")
		b.ReportMetric(ratio, "ratio")
		perApp := func(d time.Duration) float64 { return millis(d) / total }
		cCPU, bCPU := perApp(clusterCPU.total()), perApp(bareCPU.total())
		b.ReportMetric(cCPU, "cluster-cpu-ms/app")
		b.ReportMetric(bCPU, "bare-cpu-ms/app")
		b.ReportMetric(cCPU/bCPU, "cpu-ratio")
		report = []string{fmt.Sprintf("launch rate (%d × %d apps `true`, %d at once): cluster %.0f apps/s | bare loop %.0f apps/s | ratio %.2fx (goal ≥ 0.80x)",
			len(rounds), launchApps, parallel, cRate, bRate, ratio),
			"        per-round ratios: " + strings.Join(rounds, " "),
			fmt.Sprintf("        CPU per app (user+sys): cluster %.2f ms (%.2f in this process: master, workers, wire; %.2f in the app processes) | bare %.2f ms (%.2f + %.2f) | ratio %.2fx",
				cCPU, perApp(clusterCPU.self), perApp(clusterCPU.children), bCPU, perApp(bareCPU.self), perApp(bareCPU.children), cCPU/bCPU),
			fmt.Sprintf("        CPUs busy: cluster %.2f | bare %.2f of %d",
				clusterCPU.total().Seconds()/clusterTime.Seconds(), bareCPU.total().Seconds()/bareTime.Seconds(), runtime.NumCPU())}
	}
	b.Log("\n" + strings.Join(report, "\n"))
}
