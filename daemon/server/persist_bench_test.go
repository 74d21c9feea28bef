package server_test

// BenchmarkSubmitPersisted (DESIGN §5 and §11): what persistence costs a
// submission. Submissions per second into an in-process master with
// recovery mode FILESYSTEM (every submission appended to the write-ahead
// log and fdatasync'ed before it is acknowledged, group commit) vs the same
// master with recovery mode NONE, measured in the same run, the sides
// alternating round by round on a fresh master each time. Goal: FILESYSTEM
// ≥ 0.5× NONE.
//
// Each measures once, in the first b.Loop iteration, whatever -benchtime
// says, so ns/op means nothing; the figures are the logged lines and the
// reported metrics. Run:
//
//	go test -run '^$' -bench SubmitPersisted -benchtime 1x ./daemon/server/
//
// The FILESYSTEM figure depends on the file system of $TMPDIR (b.TempDir
// holds the recovery directory): the line reports it and the latency of
// a bare append + fdatasync there, measured in the same run.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/master"
	"github.com/alohasched/aloha/daemon/server"
)

const (
	// spSubmitters submit concurrently, each through a client of its own
	// (one connection each), one submission in flight per submitter.
	spSubmitters = 64
	// spRounds rounds per side of spRound each, the order of the sides
	// flipping every round: short rounds, so that the load of whatever
	// else runs on the machine falls on both sides alike.
	spRounds = 6
	spRound  = 1500 * time.Millisecond
	// spSyncs bare append+fdatasync samples for the disk baseline.
	spSyncs = 200
)

// spMaster is an in-process master (no workers, REST off) with a recovery
// mode.
type spMaster struct {
	srv    *server.Master
	cancel context.CancelFunc
	done   chan error
}

// startSPMaster starts a master with recovery mode mode (NONE or
// FILESYSTEM, the latter in a fresh directory under dir) and waits until
// it is ALIVE.
func startSPMaster(b *testing.B, mode, dir string) *spMaster {
	b.Helper()
	conf := config.Defaults()
	settings := map[string]string{
		config.MasterHost:        "127.0.0.1",
		config.MasterPort:        "0",
		config.MasterRESTEnabled: "false",
		config.RecoveryMode:      mode,
	}
	if mode == config.RecoveryFilesystem {
		settings[config.RecoveryDirectory] = dir
	}
	for k, v := range settings {
		if err := conf.Set(k, v, "benchmark"); err != nil {
			b.Fatal(err)
		}
	}
	if err := conf.Validate(); err != nil {
		b.Fatal(err)
	}
	// Logs formatted as the daemon formats them at its default level, so
	// that logging costs what it costs in production, then dropped.
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := server.NewMaster(conf, log)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &spMaster{srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- srv.Run(ctx) }()
	backend := master.Backend{M: srv.Scheduler()}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := backend.MasterInfo(context.Background())
		if err == nil && info.State == api.MasterAlive {
			return m
		}
		select {
		case err := <-m.done:
			b.Fatalf("%s master stopped: %v", mode, err)
		default:
		}
		if time.Now().After(deadline) {
			m.stop(b)
			b.Fatalf("%s master not ALIVE within 30 s (%v, %v)", mode, info, err)
		}
		time.Sleep(time.Millisecond)
	}
}

func (m *spMaster) stop(b *testing.B) {
	m.cancel()
	if err := <-m.done; err != nil {
		b.Errorf("master: %v", err)
	}
}

// spResult is one side's round.
type spResult struct {
	n       int
	elapsed time.Duration
	cpu     time.Duration // user+system CPU of this process meanwhile
	lat     []time.Duration
}

// spCPU is the CPU time (user + system) this process has used so far.
func spCPU() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spRun starts a fresh master of the mode, lets spSubmitters clients
// submit for d and stops it all.
func spRun(b *testing.B, mode string, d time.Duration) spResult {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "recovery")
	m := startSPMaster(b, mode, dir)
	defer func() {
		m.stop(b)
		os.RemoveAll(dir)
	}()
	clients := make([]*client.Client, spSubmitters)
	for i := range clients {
		c, err := client.New(client.Config{Masters: []string{m.srv.URL()}})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	spec := api.AppSpec{Name: "queued", EntryPoint: "shell", Args: "true", Cores: 1, Memory: 16}
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	var (
		wg       sync.WaitGroup
		ready    sync.WaitGroup
		start    = make(chan struct{})
		stop     atomic.Bool
		mu       sync.Mutex
		lat      []time.Duration
		firstErr error
	)
	for _, c := range clients {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			// Warm up: the connection and the handshake, out of the count.
			_, err := c.Submit(ctx, spec)
			ready.Done()
			<-start
			var mine []time.Duration
			for err == nil && !stop.Load() {
				t0 := time.Now()
				if _, err = c.Submit(ctx, spec); err == nil {
					mine = append(mine, time.Since(t0))
				}
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	ready.Wait()
	runtime.GC()
	t0, cpu0 := time.Now(), spCPU()
	close(start)
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	elapsed, cpu := time.Since(t0), spCPU()-cpu0
	if firstErr != nil {
		b.Fatalf("%s: submit: %v", mode, firstErr)
	}
	slices.Sort(lat)
	return spResult{n: len(lat), elapsed: elapsed, cpu: cpu, lat: lat}
}

// spSyncLatency is the disk baseline: appends of 512 bytes to a file in
// dir, each followed by fdatasync, as the write-ahead log does per group
// commit. It returns the sorted latencies.
func spSyncLatency(b *testing.B, dir string) []time.Duration {
	b.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "sync-probe"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 512)
	out := make([]time.Duration, 0, spSyncs)
	for range spSyncs {
		t0 := time.Now()
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
		out = append(out, time.Since(t0))
	}
	slices.Sort(out)
	return out
}

// spFSType names the file system type of dir.
func spFSType(dir string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "unknown"
	}
	switch st.Type {
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	}
	return fmt.Sprintf("0x%x", st.Type)
}

func spPercentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func spMillis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkSubmitPersisted: submissions per second with FILESYSTEM
// persistence vs NONE (goal ≥ 0.5×). No worker is registered, so every
// application stays queued: with no alive worker the scheduling pass only
// labels the new arrivals ("no worker") and returns, the same cost on
// both sides, and what differs is the commit before the acknowledgement.
// spSubmitters clients submit one application at a time each, for spRound
// per side and round; every round starts a fresh master (a fresh
// recovery directory), so that both sides start from the same empty
// state and neither carries the previous round's queue.
func BenchmarkSubmitPersisted(b *testing.B) {
	// Every master, client and connection is gone when it ends.
	leaks := goleak.IgnoreCurrent()
	b.Cleanup(func() { goleak.VerifyNone(b, leaks) })
	root := b.TempDir()
	// Warm up both sides (code paths, page cache, goroutine stacks).
	spRun(b, config.RecoveryNone, 300*time.Millisecond)
	spRun(b, config.RecoveryFilesystem, 300*time.Millisecond)
	var report []string
	for b.Loop() {
		if report != nil {
			continue // measured already: once per run whatever -benchtime says
		}
		syncs := spSyncLatency(b, root)
		var none, fs spResult
		var rounds []string
		for r := range spRounds {
			var nr, fr spResult
			sides := []func(){
				func() { nr = spRun(b, config.RecoveryNone, spRound) },
				func() { fr = spRun(b, config.RecoveryFilesystem, spRound) },
			}
			if r%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
			for _, side := range sides {
				runtime.GC()
				side()
			}
			none.n += nr.n
			none.elapsed += nr.elapsed
			none.cpu += nr.cpu
			none.lat = append(none.lat, nr.lat...)
			fs.n += fr.n
			fs.elapsed += fr.elapsed
			fs.cpu += fr.cpu
			fs.lat = append(fs.lat, fr.lat...)
			rounds = append(rounds, fmt.Sprintf("%.2f", (float64(fr.n)/fr.elapsed.Seconds())/(float64(nr.n)/nr.elapsed.Seconds())))
		}
		slices.Sort(none.lat)
		slices.Sort(fs.lat)
		noneRate := float64(none.n) / none.elapsed.Seconds()
		fsRate := float64(fs.n) / fs.elapsed.Seconds()
		ratio := fsRate / noneRate
		b.ReportMetric(fsRate, "fs-submits/s")
		b.ReportMetric(noneRate, "none-submits/s")
		b.ReportMetric(ratio, "ratio")
		b.ReportMetric(spMillis(spPercentile(fs.lat, 0.99)), "fs-p99-ms")
		b.ReportMetric(spMillis(spPercentile(none.lat, 0.99)), "none-p99-ms")
		perSub := func(r spResult) float64 { return float64(r.cpu) / float64(time.Microsecond) / float64(r.n) }
		fsCPU, noneCPU := perSub(fs), perSub(none)
		b.ReportMetric(fsCPU, "fs-cpu-µs/submit")
		b.ReportMetric(noneCPU, "none-cpu-µs/submit")
		verdict := "MET"
		if ratio < 0.5 {
			verdict = "MISSED"
		}
		report = []string{
			fmt.Sprintf("submissions/s (%d submitters, %d × %s per side, no worker: apps queue): FILESYSTEM %.0f/s | NONE %.0f/s | ratio %.2fx (goal ≥ 0.50x: %s)",
				spSubmitters, spRounds, spRound, fsRate, noneRate, ratio, verdict),
			"        per-round ratios: " + strings.Join(rounds, " "),
			fmt.Sprintf("        submit latency: FILESYSTEM p50 %.2f ms p99 %.2f ms | NONE p50 %.2f ms p99 %.2f ms",
				spMillis(spPercentile(fs.lat, 0.5)), spMillis(spPercentile(fs.lat, 0.99)),
				spMillis(spPercentile(none.lat, 0.5)), spMillis(spPercentile(none.lat, 0.99))),
			fmt.Sprintf("        CPU per submission (this process: clients and master): FILESYSTEM %.1f µs | NONE %.1f µs | ratio %.2fx; CPUs busy: FILESYSTEM %.2f | NONE %.2f of %d",
				fsCPU, noneCPU, fsCPU/noneCPU, fs.cpu.Seconds()/fs.elapsed.Seconds(), none.cpu.Seconds()/none.elapsed.Seconds(), runtime.NumCPU()),
			fmt.Sprintf("        disk ($TMPDIR on %s): bare 512-byte append + fdatasync p50 %.2f ms p99 %.2f ms (%d samples), i.e. ≤ %.0f group commits/s",
				spFSType(root), spMillis(spPercentile(syncs, 0.5)), spMillis(spPercentile(syncs, 0.99)), len(syncs),
				1/spPercentile(syncs, 0.5).Seconds()),
		}
	}
	b.Log("\n" + strings.Join(report, "\n"))
}
