package fsrecovery

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/daemon/recovery/recoverytest"
	"github.com/alohasched/aloha/internal/testutil"
)

func TestElectorConformance(t *testing.T) {
	recoverytest.RunElectorTests(t, func(t *testing.T) func(url string) recovery.Elector {
		dir := t.TempDir()
		return func(url string) recovery.Elector { return newElector(t, dir, url, 0) }
	})
}

// campaign runs Campaign on a goroutine of its own.
func campaign(ctx context.Context, e *Elector) <-chan result {
	ch := make(chan result, 1)
	go func() {
		term, err := e.Campaign(ctx)
		ch <- result{term, err}
	}()
	return ch
}

type result struct {
	term *recovery.Term
	err  error
}

// won waits for a campaign to win and returns the term.
func won(t *testing.T, ch <-chan result, within time.Duration) *recovery.Term {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Campaign = %v", r.err)
		}
		return r.term
	case <-time.After(within):
		t.Fatalf("Campaign did not win within %s", within)
		return nil
	}
}

func waitLeader(t *testing.T, e *Elector, want string) {
	t.Helper()
	testutil.WaitFor(t, testTimeout, func() error {
		if got := e.Leader(); got != want {
			return fmt.Errorf("Leader() = %q, want %q", got, want)
		}
		return nil
	})
}

func TestStandbyTakesOverFromKilledLeader(t *testing.T) {
	dir := t.TempDir()
	const leaderURL, standbyURL = "aloha://127.0.0.1:7001", "aloha://127.0.0.1:7002"
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=leader", childDirEnv+"="+dir, childURLEnv+"="+leaderURL)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	var childEpoch uint64
	if _, err := fmt.Fscanf(bufio.NewReader(out), "leading %d\n", &childEpoch); err != nil {
		t.Fatalf("reading the child leader's epoch: %v", err)
	}

	standby := newElector(t, dir, standbyURL, 0) // the default poll
	waitLeader(t, standby, leaderURL)
	ch := campaign(testCtx(t), standby)
	select {
	case r := <-ch:
		t.Fatalf("the standby won %+v, %v while the child leads", r.term, r.err)
	case <-time.After(2 * DefaultPollInterval):
	}

	killed := time.Now()
	cmd.Process.Signal(unix.SIGKILL)
	term := won(t, ch, 2*time.Second)
	t.Logf("standby took over %s after SIGKILL", time.Since(killed).Round(time.Millisecond))
	if term.Epoch <= childEpoch {
		t.Fatalf("new epoch %d not above the killed leader's %d", term.Epoch, childEpoch)
	}
	if url, epoch := standby.readRecord(); url != standbyURL || epoch != term.Epoch {
		t.Fatalf("leader record = %s, %d; want %s, %d", url, epoch, standbyURL, term.Epoch)
	}
	observer := newElector(t, dir, "aloha://127.0.0.1:7003", 0)
	if got := observer.Leader(); got != standbyURL {
		t.Fatalf("another master's Leader() = %q, want %q", got, standbyURL)
	}
}

// Only inotify can wake these standbys: they poll once an hour.
func TestResignWakesStandbyWithoutPolling(t *testing.T) {
	dir := t.TempDir()
	a := newElector(t, dir, "aloha://127.0.0.1:7001", time.Hour)
	b := newElector(t, dir, "aloha://127.0.0.1:7002", time.Hour)
	ta, err := a.Campaign(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	waitLeader(t, b, "aloha://127.0.0.1:7001") // the record's creation woke b
	ch := campaign(testCtx(t), b)
	time.Sleep(50 * time.Millisecond) // let b's first try fail, so a wake-up is needed
	ta.Resign()
	tb := won(t, ch, time.Second)
	if tb.Epoch <= ta.Epoch {
		t.Fatalf("epochs %d then %d, want increasing", ta.Epoch, tb.Epoch)
	}
	waitLeader(t, a, "aloha://127.0.0.1:7002")
}

func TestLeaderLosesTermWhenLockFileGoes(t *testing.T) {
	cases := map[string]func(dir string) error{
		"lock file removed": func(dir string) error { return os.Remove(filepath.Join(dir, lockName)) },
		"lock file replaced": func(dir string) error {
			os.WriteFile(filepath.Join(dir, "new"), nil, 0o644)
			return os.Rename(filepath.Join(dir, "new"), filepath.Join(dir, lockName))
		},
		"directory removed": os.RemoveAll,
		"directory replaced": func(dir string) error {
			if err := os.Rename(dir, dir+".old"); err != nil {
				return err
			}
			return os.Mkdir(dir, 0o755)
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "recovery")
			e := newElector(t, dir, "aloha://127.0.0.1:7001", 20*time.Millisecond)
			term, err := e.Campaign(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := damage(dir); err != nil {
				t.Fatal(err)
			}
			select {
			case <-term.Lost:
			case <-time.After(2 * time.Second):
				t.Fatal("Lost still open 2 s after the lock file went")
			}
			if _, err := os.Stat(dir); err != nil {
				return // the directory is gone: nobody can lead
			}
			// A standby takes the lock at the path now, with a later
			// epoch unless the epoch file went with the directory.
			s := newElector(t, dir, "aloha://127.0.0.1:7002", 20*time.Millisecond)
			ts := won(t, campaign(testCtx(t), s), 2*time.Second)
			if !strings.HasPrefix(name, "directory") && ts.Epoch <= term.Epoch {
				t.Fatalf("new epoch %d not above %d", ts.Epoch, term.Epoch)
			}
		})
	}
}

func TestClosingAStandbyStopsIt(t *testing.T) {
	dir := t.TempDir()
	a := newElector(t, dir, "aloha://127.0.0.1:7001", 0)
	if _, err := a.Campaign(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	before := goleak.IgnoreCurrent()
	b, err := NewElector(dir, "aloha://127.0.0.1:7002", nil, ElectorOptions{PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ch := campaign(testCtx(t), b)
	waitLeader(t, b, "aloha://127.0.0.1:7001")
	if err := b.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	select {
	case r := <-ch:
		if !errors.Is(r.err, recovery.ErrClosed) {
			t.Fatalf("Campaign after Close = %+v, %v; want ErrClosed", r.term, r.err)
		}
	case <-time.After(time.Second):
		t.Fatal("Campaign still running after Close")
	}
	// Neither its poller nor its watcher is left running.
	goleak.VerifyNone(t, before)
	if _, err := b.Campaign(testCtx(t)); !errors.Is(err, recovery.ErrClosed) {
		t.Fatalf("Campaign on a closed elector = %v, want ErrClosed", err)
	}
}

// flock locks belong to the open file description, so two descriptors
// in one process conflict: two electors in one process are two masters.
func TestTwoElectorsInOneProcess(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "probe")
	f1, _ := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o644)
	f2, _ := os.Open(path)
	defer f1.Close()
	defer f2.Close()
	if err := flock(f1, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatalf("first flock = %v", err)
	}
	if err := flock(f2, unix.LOCK_EX|unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
		t.Fatalf("second descriptor's flock = %v, want EWOULDBLOCK", err)
	}

	a := newElector(t, dir, "aloha://127.0.0.1:7001", 0)
	b := newElector(t, dir, "aloha://127.0.0.1:7002", 0)
	ta, err := a.Campaign(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*DefaultPollInterval)
	defer cancel()
	if term, err := b.Campaign(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second elector's Campaign = %+v, %v while the first leads", term, err)
	}
	ch := campaign(testCtx(t), b)
	a.Close()
	select {
	case <-ta.Lost:
	default:
		t.Fatal("Close did not end the term")
	}
	if tb := won(t, ch, 2*time.Second); tb.Epoch <= ta.Epoch {
		t.Fatalf("epoch %d not above %d", tb.Epoch, ta.Epoch)
	}
	if _, err := b.Campaign(testCtx(t)); err == nil {
		t.Fatal("Campaign while leading succeeded")
	}
}

func TestDamagedEpochFileStopsCampaign(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, epochName), []byte("not a number"), 0o644)
	e := newElector(t, dir, "aloha://127.0.0.1:7001", 0)
	if term, err := e.Campaign(testCtx(t)); err == nil || !contains(err.Error(), epochName) {
		t.Fatalf("Campaign = %+v, %v; want an error naming the epoch file", term, err)
	}
	// The lock was released: another master is not blocked by the failure.
	f, _ := os.Open(filepath.Join(dir, lockName))
	defer f.Close()
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatalf("lock after a failed Campaign = %v", err)
	}
}
