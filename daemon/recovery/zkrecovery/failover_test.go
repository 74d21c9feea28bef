package zkrecovery

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/internal/testutil"
	"github.com/alohasched/aloha/internal/zktest"
)

// A master in a child process (this test binary run again, stopped in
// TestMain) so that it can be killed or frozen as a whole: its session
// then ends the way a crashed or paused master's does, by the server's
// timeout, not by a polite close.
const (
	helperEnv     = "ALOHA_ZKRECOVERY_HELPER" // "kill" or "freeze"
	helperRootEnv = "ALOHA_ZKRECOVERY_ROOT"
	helperURLEnv  = "ALOHA_ZKRECOVERY_URL"
)

// helperMain leads, commits, says "LEADER <epoch>" and then, in mode
// kill, waits to be killed; in mode freeze, keeps committing one
// application after another like a leader that ignores Lost would, says
// "OK <id>" for each write that succeeds and "LOST" once Lost closes, and
// ends ("DONE") half a second later.
func helperMain() int {
	fail := func(what string, err error) int {
		fmt.Printf("ERROR %s: %v\n", what, err)
		return 1
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c, err := Connect([]string{os.Getenv(zktest.EnvServer)}, testSession, log)
	if err != nil {
		return fail("connect", err)
	}
	root := os.Getenv(helperRootEnv)
	e, err := c.Elector(root, os.Getenv(helperURLEnv))
	if err != nil {
		return fail("elector", err)
	}
	s, err := c.Store(root)
	if err != nil {
		return fail("store", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	term, err := e.Campaign(ctx)
	if err != nil {
		return fail("campaign", err)
	}
	put := func(id string) error {
		b := &recovery.Batch{}
		b.PutApp(testApp(id))
		return s.Commit(ctx, b)
	}
	if err := put("child-0"); err != nil {
		return fail("commit", err)
	}
	fmt.Printf("LEADER %d\n", term.Epoch)
	if os.Getenv(helperEnv) == "kill" {
		<-ctx.Done()
		return 1
	}
	var end time.Time
	for i := 1; ctx.Err() == nil; i++ {
		select {
		case <-term.Lost:
			if end.IsZero() {
				fmt.Println("LOST")
				end = time.Now().Add(500 * time.Millisecond)
			}
		default:
		}
		if id := fmt.Sprintf("child-%d", i); put(id) == nil {
			fmt.Printf("OK %s\n", id)
		}
		if !end.IsZero() && time.Now().After(end) {
			fmt.Println("DONE")
			return 0
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 1
}

type child struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startChild(t *testing.T, mode, root, url string) *child {
	t.Helper()
	ch := &child{cmd: exec.Command(os.Args[0]), lines: make(chan string, 10000), stderr: &lockedBuffer{}}
	ch.cmd.Env = append(os.Environ(), helperEnv+"="+mode, zktest.EnvServer+"="+zktest.Server(t),
		helperRootEnv+"="+root, helperURLEnv+"="+url)
	ch.cmd.Stderr = ch.stderr
	out, err := ch.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch.lines <- sc.Text()
		}
		close(ch.lines)
	}()
	t.Cleanup(func() {
		ch.cmd.Process.Signal(syscall.SIGCONT)
		ch.cmd.Process.Kill()
		ch.cmd.Wait()
		if t.Failed() {
			t.Logf("child's log:\n%s", ch.stderr.String())
		}
	})
	return ch
}

// expect reads the child's output up to a line starting with prefix and
// returns the rest of that line, and the lines before it.
func (ch *child) expect(t *testing.T, prefix string, within time.Duration) (string, []string) {
	t.Helper()
	var before []string
	deadline := time.After(within)
	for {
		select {
		case line, ok := <-ch.lines:
			switch {
			case !ok:
				t.Fatalf("child exited before %q; it said %q", prefix, before)
			case strings.HasPrefix(line, "ERROR"):
				t.Fatalf("child: %s", line)
			case strings.HasPrefix(line, prefix):
				return strings.TrimPrefix(line, prefix), before
			}
			before = append(before, line)
		case <-deadline:
			t.Fatalf("child did not say %q within %s", prefix, within)
		}
	}
}

// waitCandidates waits until n candidates stand in the election under root.
func waitCandidates(t *testing.T, c *Client, root string, n int) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() error {
		names, _, err := c.conn.Children(root + "/election")
		if err != nil || len(names) != n {
			return fmt.Errorf("candidates %q (%v), want %d", names, err, n)
		}
		return nil
	})
}

func TestKilledLeaderIsReplaced(t *testing.T) {
	root := zktest.Chroot(t)
	ch := startChild(t, "kill", root, urlA)
	got, _ := ch.expect(t, "LEADER ", 30*time.Second)
	epochA, err := strconv.ParseUint(got, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	cb := newClient(t)
	b := newElector(t, cb, root, urlB)
	waitLeader(t, b, urlA)
	won := campaign(t, b)
	waitCandidates(t, cb, root, 2)
	select {
	case <-won:
		t.Fatal("the standby leads while the leader lives")
	default:
	}

	killed := time.Now()
	if err := ch.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	tb := waitTerm(t, won, 30*time.Second, "standby after kill -9 of the leader")
	t.Logf("failover after kill -9: %s (session timeout %s)", time.Since(killed).Round(time.Millisecond), testSession)
	if tb.Epoch <= epochA {
		t.Fatalf("standby's epoch %d not above the killed leader's %d", tb.Epoch, epochA)
	}
	waitLeader(t, b, urlB)
	sb, err := cb.Store(root)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := sb.Load(testCtx(t))
	if err != nil || len(snap.Apps) != 1 || snap.Apps[0].ID != "child-0" {
		t.Fatalf("Load by the new leader = %+v, %v; want the killed leader's child-0", snap, err)
	}
}

// A leader frozen (SIGSTOP: a long GC pause, a stopped VM) past its
// session timeout is replaced; when it thaws, Lost closes, and none of
// the writes it keeps attempting lands.
func TestFrozenLeaderIsFenced(t *testing.T) {
	root := zktest.Chroot(t)
	ch := startChild(t, "freeze", root, urlA)
	got, _ := ch.expect(t, "LEADER ", 30*time.Second)
	epochA, err := strconv.ParseUint(got, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ch.expect(t, "OK ", 10*time.Second)
	cb := newClient(t)
	b := newElector(t, cb, root, urlB)
	sb, err := cb.Store(root)
	if err != nil {
		t.Fatal(err)
	}
	won := campaign(t, b)
	waitCandidates(t, cb, root, 2)

	frozen := time.Now()
	if err := ch.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	tb := waitTerm(t, won, 30*time.Second, "standby while the leader is frozen")
	t.Logf("takeover from a frozen leader: %s (session timeout %s)", time.Since(frozen).Round(time.Millisecond), testSession)
	if tb.Epoch <= epochA {
		t.Fatalf("standby's epoch %d not above the frozen leader's %d", tb.Epoch, epochA)
	}
	before := appIDs(t, sb)

	thawed := time.Now()
	if err := ch.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	ch.expect(t, "LOST", 30*time.Second)
	t.Logf("the thawed leader saw Lost after %s", time.Since(thawed).Round(time.Millisecond))
	_, late := ch.expect(t, "DONE", 30*time.Second)
	if len(late) > 0 {
		t.Errorf("writes of the deposed leader succeeded after LOST: %q", late)
	}
	if after := appIDs(t, sb); after != before {
		t.Fatalf("the deposed leader changed the state:\nbefore %s\nafter  %s", before, after)
	}
}

func appIDs(t *testing.T, s *Store) string {
	t.Helper()
	snap, err := s.Load(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range snap.Apps {
		ids = append(ids, a.ID)
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}
