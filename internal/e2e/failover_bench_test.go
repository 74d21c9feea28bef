package e2e

// HA benchmarks of DESIGN §5 and §11, on the alohad binary TestMain
// builds, run as real processes on loopback ports:
//
//	BenchmarkFailover     kill -9 of the leader → a client that knows both
//	                      masters has a submission accepted by the other
//	                      one (the new leader), 5 times per recovery mode,
//	                      the killed master restarted as a standby between
//	                      runs. Goals: FILESYSTEM < 2 s; ZOOKEEPER < session
//	                      timeout + 1 s (the session timeout is 2 s here).
//	BenchmarkRecovery10k  a master started on a store holding 10,000
//	                      applications: process start → MasterInfo says
//	                      ALIVE. Goal: < 1 s. Baselines from the same run:
//	                      the same start on an empty store, and the bare
//	                      Store.Load of the 10,000 in this process.
//
// Each measures once, in the first b.Loop iteration, whatever -benchtime
// says, so ns/op means nothing; the figures are the logged lines and the
// reported metrics. Run (without -race: under it the daemons are built
// with the race detector too, and the figures say so):
//
//	go test -p 1 -run '^$' -bench 'Failover|Recovery10k' -benchtime 1x -timeout 20m ./internal/e2e/

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"go.uber.org/goleak"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/daemon/recovery/fsrecovery"
	"github.com/alohasched/aloha/daemon/recovery/zkrecovery"
	"github.com/alohasched/aloha/internal/zktest"
)

const (
	// habRuns failovers per recovery mode.
	habRuns = 5
	// habSession is the ZooKeeper session timeout of the benchmarks: a
	// killed leader is noticed when its session expires, so the goal is
	// relative to it. The server zktest starts (tickTime 250 ms) grants
	// sessions of 0.5–5 s, so it grants this one as asked.
	habSession = 2 * time.Second
	// habClientRetry is the pause of the benchmark's client between
	// rounds over the masters while none answers as the leader. The
	// default (200 ms) would add up to 200 ms of client polling to the
	// figure; this measures the cluster.
	habClientRetry = 10 * time.Millisecond
	// habSettle bounds every wait for the cluster to be steady again.
	habSettle = 90 * time.Second

	// Recovery: habApps applications in the store, the habFinished oldest
	// of them finished (FINISHED, FAILED, KILLED), the others SUBMITTED
	// (a backlog); committed habBatch at a time, as a group commit of
	// that many submissions writes them, the finished ones in four
	// versions (SUBMITTED, LAUNCHING, RUNNING, final) as their master
	// wrote them.
	habApps     = 10_000
	habFinished = 1_000
	habBatch    = 64
	// habSamples starts per side (empty store, full store), alternating.
	habSamples = 3
)

// habProc is a daemon started by a benchmark; the e2e harness's proc
// takes a *testing.T.
type habProc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// habStart runs bin/<args[0]> in dir in a process group of its own,
// killed with the group when tb ends.
func habStart(tb testing.TB, dir string, args ...string) *habProc {
	tb.Helper()
	p := &habProc{name: strings.Join(args, " "), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(binDir, args[0]), args[1:]...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		p.kill9()
		if tb.Failed() {
			tb.Logf("output of %s:\n%s", p.name, p.out.String())
		}
	})
	return p
}

// kill9 kills the daemon and its process group at once and reaps it.
func (p *habProc) kill9() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits for the exit, killing after 30 s.
func (p *habProc) stop(tb testing.TB) {
	tb.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill9()
		tb.Errorf("%s did not stop within 30 s of SIGTERM", p.name)
	}
}

func (p *habProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitLog waits for a line matching re and returns its submatches.
func (p *habProc) waitLog(tb testing.TB, re string) []string {
	tb.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(habSettle)
	for {
		if m := rx.FindStringSubmatch(p.out.String()); m != nil {
			return m
		}
		if p.exited() {
			tb.Fatalf("%s exited (%v) before logging %q:\n%s", p.name, p.err, re, p.out.String())
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s has not logged %q within %s:\n%s", p.name, re, habSettle, p.out.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// habStore is a recovery mode's flags for alohad and the way to open its
// store from the benchmark.
type habStore struct {
	mode  string
	flags []string
	fsDir string // FILESYSTEM
	zk    string // ZOOKEEPER: server and directory
	zkDir string
}

// habMode returns a store of its own (a fresh directory or ZooKeeper
// chroot) in the recovery mode, like haMode for the tests.
func habMode(tb testing.TB, mode, dir string) habStore {
	tb.Helper()
	switch mode {
	case "FILESYSTEM":
		s := habStore{mode: mode, fsDir: filepath.Join(dir, "recovery")}
		s.flags = []string{"-Daloha.deploy.recoveryMode=FILESYSTEM", "-Daloha.deploy.recoveryDirectory=" + s.fsDir}
		return s
	case "ZOOKEEPER":
		s := habStore{mode: mode, zk: zktest.Server(tb), zkDir: zktest.Chroot(tb)}
		s.flags = []string{"-Daloha.deploy.recoveryMode=ZOOKEEPER", "-Daloha.deploy.zookeeper.url=" + s.zk,
			"-Daloha.deploy.zookeeper.dir=" + s.zkDir, "-Daloha.deploy.zookeeper.sessionTimeout=" + habSession.String()}
		return s
	}
	tb.Fatalf("unknown recovery mode %s", mode)
	return habStore{}
}

// open opens the store directly, as a master would (no elector: writes
// are not fenced).
func (s habStore) open(tb testing.TB) recovery.Store {
	tb.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	switch s.mode {
	case "FILESYSTEM":
		st, err := fsrecovery.OpenStore(s.fsDir, quiet)
		if err != nil {
			tb.Fatal(err)
		}
		return st
	default:
		c, err := zkrecovery.Connect(zkrecovery.SplitServers(s.zk), 10*time.Second, quiet)
		if err != nil {
			tb.Fatal(err)
		}
		st, err := c.Store(s.zkDir)
		if err != nil {
			c.Close()
			tb.Fatal(err)
		}
		return habZKStore{st, c}
	}
}

// habZKStore closes the ZooKeeper session with the store.
type habZKStore struct {
	*zkrecovery.Store
	c *zkrecovery.Client
}

func (s habZKStore) Close() error {
	err := s.Store.Close()
	s.c.Close()
	return err
}

// habGrantedSession opens a session asking for habSession and returns
// the timeout the server granted (it bounds sessions to 2–20 of its
// ticks), read from the client library's log of the handshake.
func habGrantedSession(tb testing.TB, server string) time.Duration {
	tb.Helper()
	lines := make(chan string, 64)
	conn, _, err := zk.Connect([]string{server}, habSession, zk.WithLogger(habZKLog(lines)))
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	rx := regexp.MustCompile(`authenticated: id=\d+, timeout=(\d+)`)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l := <-lines:
			if m := rx.FindStringSubmatch(l); m != nil {
				ms, _ := strconv.Atoi(m[1])
				return time.Duration(ms) * time.Millisecond
			}
		case <-deadline:
			tb.Fatalf("no ZooKeeper session with %s within 30 s", server)
		}
	}
}

type habZKLog chan string

func (l habZKLog) Printf(format string, args ...any) {
	select {
	case l <- fmt.Sprintf(format, args...):
	default:
	}
}

// habFreePort returns a loopback port that was free a moment ago. The
// masters need fixed ports: a master restarted after kill -9 must come
// back at the URL the worker and the clients know.
func habFreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func habURL(port int) string { return "aloha://127.0.0.1:" + strconv.Itoa(port) }

// habStartMaster runs alohad master on port and waits until it listens.
func habStartMaster(tb testing.TB, dir string, port int, flags ...string) *habProc {
	tb.Helper()
	args := append([]string{"alohad", "master", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "--rest-port", "0"}, flags...)
	m := habStart(tb, dir, args...)
	m.waitLog(tb, `msg="master listening"`)
	return m
}

// habClient is a client of the masters; it is closed when tb ends at the
// latest (closing twice is harmless).
func habClient(tb testing.TB, urls ...string) *client.Client {
	tb.Helper()
	c, err := client.New(client.Config{Masters: urls, RetryInterval: habClientRetry})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// habInfo asks the masters of c for MasterInfo, a standby answering too
// when it is the only one asked.
func habInfo(c *client.Client, timeout time.Duration) (*api.MasterInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.MasterInfo(ctx)
}

// habSteady waits until one master is the ALIVE leader with workers
// alive workers and the others answer as STANDBY, and returns the
// leader's index.
func habSteady(tb testing.TB, urls []string, workers int) int {
	tb.Helper()
	deadline := time.Now().Add(habSettle)
	var last error
	for time.Now().Before(deadline) {
		if idx, err := habSteadyOnce(urls, workers); err == nil {
			return idx
		} else {
			last = err
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("the cluster did not settle within %s: %v", habSettle, last)
	return -1
}

func habSteadyOnce(urls []string, workers int) (int, error) {
	leader := -1
	for i, u := range urls {
		c, err := client.New(client.Config{Masters: []string{u}})
		if err != nil {
			return -1, err
		}
		info, err := habInfo(c, 2*time.Second)
		c.Close()
		if err != nil {
			return -1, fmt.Errorf("%s: %w", u, err)
		}
		switch info.State {
		case api.MasterAlive:
			if leader >= 0 {
				return -1, fmt.Errorf("two leaders: %s and %s", urls[leader], u)
			}
			if info.AliveWorkers != workers {
				return -1, fmt.Errorf("leader %s has %d alive workers, want %d", u, info.AliveWorkers, workers)
			}
			leader = i
		case api.MasterStandby:
		default:
			return -1, fmt.Errorf("%s is %s", u, info.State)
		}
	}
	if leader < 0 {
		return -1, errors.New("no leader")
	}
	return leader, nil
}

// habWaitAlive polls the master at url every millisecond until it says
// ALIVE and returns the time since t0, or -1 if ctx ends first.
func habWaitAlive(ctx context.Context, url string, t0 time.Time) time.Duration {
	c, err := client.New(client.Config{Masters: []string{url}, RetryInterval: time.Millisecond})
	if err != nil {
		return -1
	}
	defer c.Close()
	for ctx.Err() == nil {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		info, err := c.MasterInfo(actx)
		cancel()
		if err == nil && info.State == api.MasterAlive {
			return time.Since(t0)
		}
		time.Sleep(time.Millisecond)
	}
	return -1
}

// habNoLeaks checks, once everything the benchmark started afterwards
// has been cleaned up (processes killed and reaped, clients and sessions
// closed), that no goroutine of it is left. The ZooKeeper server zktest
// may have started for the whole binary is started before.
func habNoLeaks(tb testing.TB) {
	leaks := goleak.IgnoreCurrent()
	tb.Cleanup(func() { goleak.VerifyNone(tb, leaks) })
}

func habPercentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func habMillis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func habRaceNote() string {
	if raceEnabled {
		return " [RACE DETECTOR ON: daemons built with -race; not the figures of a release build]"
	}
	return ""
}
