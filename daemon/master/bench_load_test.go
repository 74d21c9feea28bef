package master

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// loadResult is what submitting apps through the fleet measured.
type loadResult struct {
	done    int           // apps finished
	elapsed time.Duration // first submit to last FINISHED acknowledged
	// Sorted: submit → LaunchApp arrival per app, and loop round trips
	// sampled during the load.
	placement []time.Duration
	rtt       []time.Duration
}

// submitAll submits apps a-0 … a-(n-1) from scaleSubmitters goroutines
// over one client node and waits until the fleet has finished them all,
// stopping early after budget.
func (f *fleet) submitAll(client *wire.Node, n int, budget time.Duration) loadResult {
	submitAt := make([]int64, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(budget)
	f.finished.Store(0)
	for range scaleSubmitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || time.Now().After(deadline) || f.ctx.Err() != nil {
					return
				}
				spec := api.AppSpec{Name: appName(i), EntryPoint: "shell", Args: "true", Cores: 1, Memory: 1}
				submitAt[i] = int64(time.Since(f.t0))
				ctx, cancel := context.WithTimeout(f.ctx, time.Minute)
				_, err := client.Ask(ctx, f.master, &api.SubmitApp{Spec: spec})
				cancel()
				if err != nil {
					f.fail(fmt.Errorf("submit %d: %w", i, err))
					return
				}
			}
		}()
	}
	var rtt []time.Duration
	rttDone := make(chan struct{})
	go func() {
		defer close(rttDone)
		for f.ctx.Err() == nil && int(f.finished.Load()) < n && time.Now().Before(deadline) && f.err() == nil {
			if d, err := f.loopRTT(client); err == nil {
				rtt = append(rtt, d)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	wg.Wait()
	submitted := int(min(next.Load(), int64(n)))
	last, lastChange := f.finished.Load(), time.Now()
	for int(f.finished.Load()) < submitted && f.err() == nil {
		time.Sleep(5 * time.Millisecond)
		if c := f.finished.Load(); c != last {
			last, lastChange = c, time.Now()
		} else if time.Since(lastChange) > scaleStall {
			f.fail(fmt.Errorf("no app finished for %s: %d of %d", scaleStall, c, submitted))
		}
	}
	res := loadResult{done: int(f.finished.Load()), elapsed: time.Since(start)}
	<-rttDone
	for i := range submitted {
		if l := atomic.LoadInt64(&f.launchAt[i]); l > 0 {
			res.placement = append(res.placement, time.Duration(l-submitAt[i]))
		}
	}
	slices.Sort(res.placement)
	slices.Sort(rtt)
	res.rtt = rtt
	return res
}

// probe submits k apps, from sequence number first on, one at a time on
// the otherwise idle master, each timed from just before the submit to its
// LaunchApp's arrival at a simulated worker, alternating with loop round
// trips. Both results are sorted.
func (f *fleet) probe(client *wire.Node, first, k int) (place, rtt []time.Duration, err error) {
	for i := range k {
		seq := first + i
		d, err := f.loopRTT(client)
		if err != nil {
			return nil, nil, err
		}
		rtt = append(rtt, d)
		spec := api.AppSpec{Name: appName(seq), EntryPoint: "shell", Args: "true", Cores: 1, Memory: 1}
		ctx, cancel := context.WithTimeout(f.ctx, time.Minute)
		start := int64(time.Since(f.t0))
		_, err = client.Ask(ctx, f.master, &api.SubmitApp{Spec: spec})
		if err == nil {
			for err == nil {
				select {
				case got := <-f.probeCh:
					if got != seq {
						continue
					}
					place = append(place, time.Duration(atomic.LoadInt64(&f.launchAt[seq])-start))
				case <-ctx.Done():
					err = fmt.Errorf("probe %d: no LaunchApp: %w", seq, ctx.Err())
				}
				if len(place) == i+1 {
					break
				}
			}
		}
		cancel()
		if err != nil {
			return nil, nil, err
		}
	}
	// Let the last reports land before anything is measured.
	deadline := time.Now().Add(scaleStall)
	for int(f.finished.Load()) < k && f.err() == nil {
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("probes: %d of %d finished after %s", f.finished.Load(), k, scaleStall)
		}
		time.Sleep(time.Millisecond)
	}
	slices.Sort(place)
	slices.Sort(rtt)
	return place, rtt, f.err()
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// scaleRun is one at-scale run: the fleet, the load, the idle probes.
type scaleRun struct {
	fleet  *fleet
	client *wire.Node
	load   loadResult
	place  []time.Duration // idle probes: submit → LaunchApp
	rtt    []time.Duration // idle probes: loop round trip
	info   *api.MasterInfo
}

// runScale starts the fleet for the master at addr, calls between, submits
// scaleApps apps and then scaleProbes probes, and reads the master's status.
func runScale(b *testing.B, addr string, between func()) *scaleRun {
	r := &scaleRun{}
	r.fleet = startFleet(b, addr, scaleWorkers, scaleWorkerCores, scaleApps+scaleProbes, scaleApps)
	client, err := wire.NewNode(wire.Config{Registry: api.NewRegistry(), Logger: benchQuiet()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { client.Close() })
	r.client = client
	if _, err := r.fleet.loopRTT(client); err != nil {
		b.Fatal(err)
	}
	if between != nil {
		between()
	}
	r.load = r.fleet.submitAll(client, scaleApps, scaleBudget)
	if err := r.fleet.err(); err != nil {
		b.Fatal(err)
	}
	r.fleet.finished.Store(0)
	if r.place, r.rtt, err = r.fleet.probe(client, scaleApps, scaleProbes); err != nil {
		b.Fatal(err)
	}
	v, err := client.Ask(context.Background(), r.fleet.master, &api.MasterStatusRequest{})
	if err != nil {
		b.Fatal(err)
	}
	r.info = v.(*api.MasterInfo)
	return r
}

// lines reports the load and the probes, and their metrics.
func (r *scaleRun) lines(b *testing.B, where string) []string {
	l := r.load
	rate := float64(l.done) / l.elapsed.Seconds()
	lp50, lp99 := percentile(l.placement, 0.5), percentile(l.placement, 0.99)
	lr50, lr99 := percentile(l.rtt, 0.5), percentile(l.rtt, 0.99)
	p50, p99 := percentile(r.place, 0.5), percentile(r.place, 0.99)
	r50, r99 := percentile(r.rtt, 0.5), percentile(r.rtt, 0.99)
	b.ReportMetric(rate, "apps/s")
	b.ReportMetric(1000/rate, "ms/app")
	b.ReportMetric(ms(p50), "place-p50-ms")
	b.ReportMetric(ms(p99), "place-p99-ms")
	b.ReportMetric(ms(p50)/ms(r50), "place-p50-ratio")
	b.ReportMetric(ms(lp99), "load-place-p99-ms")
	out := []string{
		fmt.Sprintf("master at scale (%s): %d workers × %d cores; %d of %d apps submitted by %d clients and finished in %.1f s: %.0f apps/s, %.3f ms per app (goal < 1 ms); %d retained, %d alive workers",
			where, scaleWorkers, scaleWorkerCores, l.done, scaleApps, scaleSubmitters, l.elapsed.Seconds(), rate, 1000/rate, r.info.CompletedApps, r.info.AliveWorkers),
		fmt.Sprintf("        under that load: submit → LaunchApp p50 %.2f ms p99 %.2f ms | loop round trip p50 %.2f ms p99 %.2f ms",
			ms(lp50), ms(lp99), ms(lr50), ms(lr99)),
		fmt.Sprintf("        idle, %d retained, one at a time (%d): submit → LaunchApp p50 %.2f ms p99 %.2f ms | loop round trip p50 %.2f ms p99 %.2f ms | ratio p50 %.2fx p99 %.2fx",
			r.info.CompletedApps, len(r.place), ms(p50), ms(p99), ms(r50), ms(r99), ms(p50)/ms(r50), ms(p99)/ms(r99)),
	}
	if l.done < scaleApps {
		out = append(out, fmt.Sprintf("        INCOMPLETE: the load stopped after its %s budget with %d of %d apps done", scaleBudget, l.done, scaleApps))
	}
	return out
}
