package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery/fsrecovery"
)

// ---- BenchmarkFailover ----

// BenchmarkFailover: 2 masters sharing a recovery mode, 1 worker that
// knows both. Each run finds the leader, kills it with SIGKILL (process
// group and all) and measures the time until a client given both URLs
// (which knew the old leader) gets a submission accepted, checking that
// the other master accepted it; and, polled alongside, how long until
// that master is ALIVE (recovery complete: the worker answered; a new
// leader accepts submissions already while RECOVERING). The killed
// master is then restarted on its port as a standby, and the next run
// waits until the cluster is steady (one ALIVE leader with the worker,
// one STANDBY).
//
// The floor of each mode: a FILESYSTEM standby notices the lock freed by
// a kill -9 at its next poll (fsrecovery.DefaultPollInterval: flock
// releases raise no inotify event); a ZOOKEEPER standby when the dead
// leader's session expires (the session timeout, rounded up to the
// server's tick).
func BenchmarkFailover(b *testing.B) {
	for _, mode := range []string{"FILESYSTEM", "ZOOKEEPER"} {
		b.Run(mode, func(b *testing.B) { benchFailover(b, mode) })
	}
}

func benchFailover(b *testing.B, mode string) {
	dir := b.TempDir()
	store := habMode(b, mode, dir)
	var granted time.Duration
	if mode == "ZOOKEEPER" {
		granted = habGrantedSession(b, store.zk)
	}
	habNoLeaks(b)
	ports := []int{habFreePort(b), habFreePort(b)}
	urls := []string{habURL(ports[0]), habURL(ports[1])}
	masters := make([]*habProc, 2)
	for i := range masters {
		masters[i] = habStartMaster(b, dir, ports[i], store.flags...)
	}
	habSteady(b, urls, 0)
	w := habStart(b, dir, "alohad", "worker", "-h", "127.0.0.1", "-c", "1", "-m", "256",
		"-d", filepath.Join(dir, "work"), strings.Join(urls, ","))
	w.waitLog(b, `Successfully registered with master aloha://`)
	spec := api.AppSpec{Name: "failover-probe", EntryPoint: "shell", Args: "true", Cores: 1, Memory: 16}

	var report string
	for b.Loop() {
		if report != "" {
			continue // measured already: once per run whatever -benchtime says
		}
		var accepted, alive []time.Duration
		var runs []string
		for run := range habRuns {
			leader := habSteady(b, urls, 1)
			other := 1 - leader
			c := habClient(b, urls...)
			// The client has been talking to the leader: it knows it and
			// holds a connection to it.
			if _, err := habInfo(c, 10*time.Second); err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), habSettle)
			t0 := time.Now()
			// Meanwhile, how long until the other master is ALIVE
			// (recovery complete: the worker answered it), asked
			// directly: a standby answers MasterInfo too.
			aliveAt := make(chan time.Duration, 1)
			go func() {
				aliveAt <- habWaitAlive(ctx, urls[other], t0)
			}()
			masters[leader].kill9()
			id, err := c.Submit(ctx, spec)
			acc := time.Since(t0)
			al := <-aliveAt
			if err != nil {
				cancel()
				b.Fatalf("run %d: submission after killing %s: %v", run, urls[leader], err)
			}
			if got := c.Leader(); got != urls[other] {
				cancel()
				b.Fatalf("run %d: %s was accepted by %s, want the other master %s", run, id, got, urls[other])
			}
			if al < 0 {
				cancel()
				b.Fatalf("run %d: %s not ALIVE within %s", run, urls[other], habSettle)
			}
			cancel()
			c.Close()
			accepted = append(accepted, acc)
			alive = append(alive, al)
			runs = append(runs, fmt.Sprintf("%.0f", habMillis(acc)))
			// Back to 2 masters: the killed one, restarted, as a standby.
			masters[leader] = habStartMaster(b, dir, ports[leader], store.flags...)
		}
		habSteady(b, urls, 1)
		slices.Sort(accepted)
		slices.Sort(alive)
		p50, worst := habPercentile(accepted, 0.5), accepted[len(accepted)-1]
		a50, aworst := habPercentile(alive, 0.5), alive[len(alive)-1]
		var goal, floor time.Duration
		var floorWhat, goalWhat string
		switch mode {
		case "FILESYSTEM":
			goal, goalWhat = 2*time.Second, "< 2 s"
			floor, floorWhat = fsrecovery.DefaultPollInterval, "standby lock poll"
		default:
			goal, goalWhat = granted+time.Second, fmt.Sprintf("< session timeout %s + 1 s", granted)
			floor, floorWhat = granted, "ZooKeeper session timeout"
		}
		verdict := "MET"
		if worst >= goal {
			verdict = "MISSED"
		}
		b.ReportMetric(habMillis(p50), "p50-ms")
		b.ReportMetric(habMillis(worst), "max-ms")
		b.ReportMetric(habMillis(a50), "alive-p50-ms")
		b.ReportMetric(habMillis(aworst), "alive-max-ms")
		b.ReportMetric(habMillis(floor), "floor-ms")
		b.ReportMetric(habMillis(goal), "goal-ms")
		report = fmt.Sprintf("failover %s (kill -9 of the leader → submission accepted by the other master, %d runs, 2 masters, 1 worker): "+
			"p50 %.0f ms max %.0f ms (goal max %s = %.0f ms: %s)%s\n"+
			"        runs (ms): %s\n"+
			"        floor: %s %.0f ms; p50 beyond it %.0f ms, max beyond it %.0f ms\n"+
			"        kill -9 → new leader ALIVE (the worker answered it): p50 %.0f ms max %.0f ms\n"+
			"        client: both URLs, retry interval %s between rounds (default 200 ms)",
			mode, habRuns, habMillis(p50), habMillis(worst), goalWhat, habMillis(goal), verdict, habRaceNote(),
			strings.Join(runs, " "),
			floorWhat, habMillis(floor), habMillis(p50-floor), habMillis(worst-floor),
			habMillis(a50), habMillis(aworst), habClientRetry)
		if mode == "ZOOKEEPER" {
			b.ReportMetric(habMillis(granted), "session-ms")
			report += fmt.Sprintf("\n        ZooKeeper session timeout: %s asked (aloha.deploy.zookeeper.sessionTimeout; default 10 s), %s granted by the server; "+
				"a dead session is expired at the server's next tick after it", habSession, granted)
		}
	}
	b.Log("\n" + report)
}
