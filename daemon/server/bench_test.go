package server_test

// Cluster benchmarks of DESIGN §11 on an in-process alohad local, each
// figure measured next to a baseline taken in the same run and reported as
// a ratio, because the machine is shared and noisy (the house style of
// wire/bench_test.go):
//
//	BenchmarkLaunchRate       apps launched per second end to end (2 workers
//	                          × 2 cores) vs a bare loop launching the same
//	                          process into fresh directories with the same
//	                          parallelism; CPU per app on both sides
//	BenchmarkSubmitToRunning  submit → RUNNING latency p50/p99 on an idle
//	                          cluster vs the bare launch of the same process
//
// The master-only benchmarks (1,000 simulated workers, 100,000 retained
// apps, scheduling passes) are in daemon/master/bench_test.go.
//
// Each measures once, in the first b.Loop iteration, whatever -benchtime
// says, so ns/op means nothing; the figures are the logged lines and the
// reported metrics. Run:
//
//	go test -run '^$' -bench . -benchtime 1x ./daemon/server/ ./daemon/master/

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/master"
	"github.com/alohasched/aloha/daemon/server"
)

const (
	// Launch rate: launchApps apps per side and round, launchRounds rounds,
	// the order of the sides flipping every round.
	launchApps   = 2000
	launchRounds = 3
	// launchBudget: no new round starts after this, so that a loaded
	// machine does not stretch the benchmark far beyond a minute.
	launchBudget = 40 * time.Second
	// The cluster of the launch benchmarks: launchWorkers workers offering
	// launchCores cores each, so launchWorkers*launchCores one-core apps
	// run at once; the bare loop runs that many launchers.
	launchWorkers = 2
	launchCores   = 2

	// Submit → RUNNING: latencySamples samples per side.
	latencySamples = 200

	// benchStall fails a benchmark that makes no progress for this long.
	benchStall = 30 * time.Second
)

// benchLogger formats every record like the daemons do at their default
// level, so logging costs what it costs in production, but prints nothing.
func benchLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// freePort returns a loopback port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// masterPort is the value given to aloha.master.port: 0 (any free port)
// when the configuration accepts it (it does since ports may be 0), else a
// port that was free a moment ago.
func masterPort(tb testing.TB) string {
	if config.Defaults().Set(config.MasterPort, "0", "benchmark") == nil {
		return "0"
	}
	return strconv.Itoa(freePort(tb))
}

// cluster is an in-process alohad local.
type cluster struct {
	local   *server.Local
	m       *master.Master
	backend master.Backend
	cancel  context.CancelFunc
	done    chan error
}

// startLocal starts alohad local with the given workers and cores per
// worker, waits until every worker has registered and stops it all when b
// ends.
func startLocal(b *testing.B, workers, cores int) *cluster {
	b.Helper()
	conf := config.Defaults()
	for k, v := range map[string]string{
		config.MasterHost:        "127.0.0.1",
		config.MasterPort:        masterPort(b),
		config.MasterRESTEnabled: "false",
	} {
		if err := conf.Set(k, v, "benchmark"); err != nil {
			b.Fatal(err)
		}
	}
	if err := conf.Validate(); err != nil {
		b.Fatal(err)
	}
	l, err := server.NewLocal(conf, server.LocalOptions{Workers: workers, Cores: cores, Memory: 4096, WorkDir: b.TempDir()}, benchLogger())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &cluster{local: l, m: l.Master.Scheduler(), cancel: cancel, done: make(chan error, 1)}
	c.backend = master.Backend{M: c.m}
	go func() { c.done <- l.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-c.done; err != nil {
			b.Errorf("alohad local: %v", err)
		}
	})
	select {
	case <-c.m.Ready():
	case err := <-c.done:
		c.done <- err
		b.Fatalf("alohad local stopped: %v", err)
	case <-time.After(benchStall):
		b.Fatal("master not ready")
	}
	deadline := time.Now().Add(benchStall)
	for {
		info, err := c.backend.MasterInfo(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if info.AliveWorkers == workers {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d workers registered", info.AliveWorkers, workers)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return c
}

// follow reads the master's event bus from after on, calling f for every
// event until f returns true. A subscriber that fell out of the bus's ring
// fails: the count would be wrong.
func follow(m *master.Master, after uint64, f func(api.Event) bool) (uint64, error) {
	bus := m.Events()
	stall := time.NewTimer(benchStall)
	defer stall.Stop()
	for {
		evs, next := bus.Since(after, 0)
		for _, ev := range evs {
			after = ev.Seq
			if ev.Type == api.EventLagged {
				return after, fmt.Errorf("event subscriber lagged: %d events dropped", ev.Dropped)
			}
			if f(ev) {
				return after, nil
			}
		}
		if len(evs) > 0 {
			stall.Reset(benchStall)
		}
		select {
		case <-next:
		case <-stall.C:
			return after, fmt.Errorf("no event for %s", benchStall)
		}
	}
}

func trueSpec(i int) api.AppSpec {
	return api.AppSpec{Name: "true-" + strconv.Itoa(i), EntryPoint: "shell", Args: "true", Cores: 1, Memory: 1}
}

// runCluster submits n apps running `true` and returns the time from the
// first submit until all have ended, all FINISHED.
func (c *cluster) runCluster(n int) (time.Duration, error) {
	after := c.m.Events().LastSeq()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	submitErr := make(chan error, 1)
	start := time.Now()
	go func() {
		for i := range n {
			if _, err := c.backend.Submit(ctx, trueSpec(i)); err != nil {
				submitErr <- fmt.Errorf("submit %d: %w", i, err)
				return
			}
		}
		submitErr <- nil
	}()
	ended := 0
	var bad error
	_, err := follow(c.m, after, func(ev api.Event) bool {
		if ev.Type != api.EventAppStateChanged || !ev.State.IsFinal() {
			return false
		}
		if ev.State != api.AppFinished && bad == nil {
			bad = fmt.Errorf("app %s ended %s: %s", ev.AppID, ev.State, ev.Message)
		}
		ended++
		return ended == n
	})
	elapsed := time.Since(start)
	cancel()
	if serr := <-submitErr; serr != nil && err == nil {
		err = serr
	}
	return elapsed, errors.Join(err, bad)
}

// bareLaunch is what a worker minimally does per app: a fresh directory
// with stdout and stderr files, and the process in its own process group.
func bareLaunch(dir, script string) (*exec.Cmd, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	stdout, err := os.OpenFile(filepath.Join(dir, "stdout"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(dir, "stderr"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd := exec.Command("/bin/bash", "-c", script)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, cmd.Start()
}

// runBare launches n `/bin/bash -c true` with parallel launchers, each
// waiting for its process before the next, into fresh directories under
// root, and returns the elapsed time.
func runBare(root string, n, parallel int) (time.Duration, error) {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return 0, err
	}
	start := time.Now()
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				cmd, err := bareLaunch(filepath.Join(root, strconv.FormatInt(i, 10)), "true")
				if err == nil {
					err = cmd.Wait()
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
	return time.Since(start), firstErr
}

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

// BenchmarkSubmitToRunning: on an idle cluster, one app at a time, the
// time from just before Submit until the master publishes RUNNING for it
// (as seen by a subscriber of its event bus), vs the bare launch of the
// same process (fresh directory, files, fork+exec of bash) measured in
// the same run, the sides alternating sample by sample. Goal: p99 < 20 ms.
func BenchmarkSubmitToRunning(b *testing.B) {
	c := startLocal(b, launchWorkers, launchCores)
	root := b.TempDir()
	const script = "sleep 30"
	spec := api.AppSpec{Name: "sleeper", EntryPoint: "shell", Args: script, Cores: 1, Memory: 1}
	ctx := context.Background()

	clusterSample := func() (time.Duration, error) {
		after := c.m.Events().LastSeq()
		start := time.Now()
		id, err := c.backend.Submit(ctx, spec)
		if err != nil {
			return 0, err
		}
		var lat time.Duration
		var bad error
		after, err = follow(c.m, after, func(ev api.Event) bool {
			if ev.Type != api.EventAppStateChanged || ev.AppID != id {
				return false
			}
			switch {
			case ev.State == api.AppRunning:
				lat = time.Since(start)
				return true
			case ev.State.IsFinal():
				bad = fmt.Errorf("app %s ended %s before running: %s", id, ev.State, ev.Message)
				return true
			}
			return false
		})
		if err = errors.Join(err, bad); err != nil {
			return 0, err
		}
		if _, err := c.backend.Kill(ctx, id); err != nil {
			return 0, err
		}
		// Wait for its end, so that the next sample finds the cluster idle.
		_, err = follow(c.m, after, func(ev api.Event) bool {
			return ev.Type == api.EventAppStateChanged && ev.AppID == id && ev.State.IsFinal()
		})
		return lat, err
	}
	var seq int
	bareSample := func() (time.Duration, error) {
		seq++
		start := time.Now()
		cmd, err := bareLaunch(filepath.Join(root, strconv.Itoa(seq)), script)
		lat := time.Since(start)
		if err != nil {
			return 0, err
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return lat, nil
	}
	// Warm up.
	for range 5 {
		if _, err := clusterSample(); err != nil {
			b.Fatal(err)
		}
		if _, err := bareSample(); err != nil {
			b.Fatal(err)
		}
	}
	var line string
	for b.Loop() {
		if line != "" {
			continue // measured already
		}
		var cl, bl []time.Duration
		for i := range latencySamples {
			sides := []func() error{
				func() error { l, err := clusterSample(); cl = append(cl, l); return err },
				func() error { l, err := bareSample(); bl = append(bl, l); return err },
			}
			if i%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
			for _, side := range sides {
				if err := side(); err != nil {
					b.Fatalf("sample %d: %v", i, err)
				}
			}
		}
		slices.Sort(cl)
		slices.Sort(bl)
		c50, c99 := percentile(cl, 0.50), percentile(cl, 0.99)
		b50, b99 := percentile(bl, 0.50), percentile(bl, 0.99)
		b.ReportMetric(millis(c50), "p50-ms")
		b.ReportMetric(millis(c99), "p99-ms")
		b.ReportMetric(millis(b50), "bare-p50-ms")
		b.ReportMetric(millis(b99), "bare-p99-ms")
		b.ReportMetric(millis(c50)/millis(b50), "p50-ratio")
		b.ReportMetric(millis(c99)/millis(b99), "p99-ratio")
		line = fmt.Sprintf("submit → RUNNING (%d samples, idle cluster): p50 %.2f ms p99 %.2f ms max %.2f ms | bare launch p50 %.2f ms p99 %.2f ms | ratio p50 %.2fx p99 %.2fx (goal p99 < 20 ms)",
			latencySamples, millis(c50), millis(c99), millis(cl[len(cl)-1]), millis(b50), millis(b99), millis(c50)/millis(b50), millis(c99)/millis(b99))
	}
	b.Log(line)
}

// cpuUse is CPU time (user + system) used so far by this process and by
// its children that have been waited for.
type cpuUse struct{ self, children time.Duration }

func cpuTime() cpuUse {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return cpuUse{tv(self.Utime) + tv(self.Stime), tv(children.Utime) + tv(children.Stime)}
}

func (c cpuUse) sub(o cpuUse) cpuUse  { return cpuUse{c.self - o.self, c.children - o.children} }
func (c cpuUse) add(o cpuUse) cpuUse  { return cpuUse{c.self + o.self, c.children + o.children} }
func (c cpuUse) total() time.Duration { return c.self + c.children }

// percentile returns the p-quantile (0 < p <= 1) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
