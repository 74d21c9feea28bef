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
	"net"
	"strconv"
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
