package fsrecovery

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
)

// The store child commits one batch per step, forever. Step s puts the
// apps of step s (SUBMITTED), moves those of step s-1 to RUNNING and
// deletes those of step s-crashWindow, so a Load shows exactly which
// steps were committed, in order. It prints s only after Commit(s)
// returned: every printed step is acknowledged.
const (
	crashWindow       = 8
	crashCompactBytes = 16 << 10 // a snapshot every few steps
)

// crashStepApps is how many apps step s puts: from 1 to 40, so records
// of many sizes are cut.
func crashStepApps(s int) int { return 1 + (s*7)%40 }

func crashAppID(step, k int) string { return fmt.Sprintf("app-%08d-%03d", step, k) }

func crashStep(id string) int {
	n, _ := strconv.Atoi(strings.Split(id, "-")[1])
	return n
}

func storeChild(dir string) int {
	s, err := OpenStoreWith(dir, nil, StoreOptions{CompactBytes: crashCompactBytes})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	snap, err := s.Load(ctx) // as a new leader does, and to resume after the last step
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	step := 0
	for _, a := range snap.Apps {
		step = max(step, crashStep(a.ID))
	}
	// The parent kills us long before; the deadline only spares an
	// orphan if the parent died.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		step++
		b := &recovery.Batch{}
		for k := range crashStepApps(step) {
			a := testApp(crashAppID(step, k), api.AppSubmitted)
			a.Message = strings.Repeat("x", k*10)
			b.PutApp(a)
		}
		for k := range crashStepApps(step - 1) {
			if step > 1 {
				b.PutApp(testApp(crashAppID(step-1, k), api.AppRunning))
			}
		}
		for k := range crashStepApps(step - crashWindow) {
			if step > crashWindow {
				b.DeleteApp(crashAppID(step-crashWindow, k))
			}
		}
		if err := s.Commit(ctx, b); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("%d\n", step)
	}
	return 0
}

// checkCrashState checks that the store holds exactly the effect of
// steps 1..c in order, with c the last step acknowledged or the one after
// it (committed, killed before printing).
func checkCrashState(t *testing.T, dir string, acked int) {
	t.Helper()
	s, sink := openStore(t, dir, StoreOptions{CompactBytes: crashCompactBytes})
	snap, err := s.Load(testCtx(t))
	if err != nil {
		t.Fatalf("after %d acknowledged steps, Load = %v; files %v", acked, err, files(t, dir))
	}
	s.Close()
	for _, w := range sink.warnings() {
		t.Logf("warning: %s", w) // a torn tail or a leftover: expected after a kill
	}
	got := map[string]api.AppState{}
	last := 0
	for _, a := range snap.Apps {
		got[a.ID] = a.State
		last = max(last, crashStep(a.ID))
	}
	if last != acked && last != acked+1 {
		t.Fatalf("the newest step in the store is %d; %d was acknowledged", last, acked)
	}
	want := map[string]api.AppState{}
	for step := max(last-crashWindow+1, 1); step <= last; step++ {
		for k := range crashStepApps(step) {
			want[crashAppID(step, k)] = api.AppRunning
			if step == last {
				want[crashAppID(step, k)] = api.AppSubmitted
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("after step %d the store holds %d apps, want %d", last, len(got), len(want))
	}
	for id, st := range want {
		if got[id] != st {
			t.Fatalf("after step %d (%d acknowledged), app %s is %q, want %q", last, acked, id, got[id], st)
		}
	}
}

func TestKilledWriterLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20 processes")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	acked, snapshots := 0, map[uint64]bool{}
	for round := range 20 {
		// Kill after 0 to 40 acknowledged steps, then up to 2 ms more:
		// during startup and recovery, appends and compactions.
		waitSteps, extra := r.IntN(41), time.Duration(r.IntN(2000))*time.Microsecond
		printed := runStoreChild(t, dir, waitSteps, extra)
		for _, step := range printed {
			if step <= acked {
				t.Fatalf("round %d: step %d acknowledged again after %d", round, step, acked)
			}
			acked = step
		}
		checkCrashState(t, dir, acked)
		l, _ := listDir(dir)
		for _, seq := range l.snapshots {
			snapshots[seq] = true
		}
	}
	t.Logf("%d steps acknowledged over 20 kills; %d snapshots seen", acked, len(snapshots))
	if len(snapshots) < 2 {
		t.Errorf("only %d snapshots were written: compaction was hardly exercised", len(snapshots))
	}
}

// runStoreChild starts the store child on dir, kills it with SIGKILL once
// it has printed waitSteps steps and extra has passed, and returns the
// steps it printed.
func runStoreChild(t *testing.T, dir string, waitSteps int, extra time.Duration) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=store", childDirEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan int)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, err := strconv.Atoi(sc.Text()); err == nil {
				lines <- n
			}
		}
	}()
	var printed []int
	timeout := time.After(testTimeout)
	for len(printed) < waitSteps {
		select {
		case n, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("store child ended: %s", stderr.String())
			}
			printed = append(printed, n)
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("store child printed %d steps in %s", len(printed), testTimeout)
		}
	}
	time.Sleep(extra)
	cmd.Process.Kill()
	for n := range lines { // what it printed before dying
		printed = append(printed, n)
	}
	cmd.Wait()
	if stderr.Len() > 0 {
		t.Fatalf("store child failed: %s", stderr.String())
	}
	return printed
}

// leaderChild leads and holds the lock until it is killed, as a master
// does.
func leaderChild(dir, url string) int {
	e, err := NewElector(dir, url, nil, ElectorOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	term, err := e.Campaign(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("leading %d\n", term.Epoch)
	time.Sleep(time.Minute) // the parent kills us long before
	return 0
}
