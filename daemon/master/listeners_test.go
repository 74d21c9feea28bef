package master

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/events"
	"github.com/alohasched/aloha/internal/testutil"
)

// tally is a listener that counts what it is told: events, the
// applications it saw finish, and the events it was told it missed.
type tally struct {
	mu       sync.Mutex
	got      uint64 // cluster events received
	dropped  uint64 // events missed, as Lagged events said
	lastSeq  uint64
	finished map[string]bool
}

func (l *tally) OnEvent(_ context.Context, e api.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastSeq = e.Seq
	if e.Type == api.EventLagged {
		l.dropped += e.Dropped
		return nil
	}
	l.got++
	if e.Type == api.EventAppStateChanged && e.State == api.AppFinished {
		l.finished[e.AppID] = true
	}
	return nil
}

// DESIGN §3: "a slow or failing listener never blocks scheduling". A
// listener hangs on its first event for the whole test while 300
// applications are submitted, launched, run and finished (4 events each,
// more than its queue holds): every one reaches FINISHED, and the other
// listener is told of every event.
func TestHungListenerDoesNotHoldUpScheduling(t *testing.T) {
	const apps = 300
	release := make(chan struct{})
	stuck := make(chan uint64, 1)
	hung := events.ListenerFunc(func(_ context.Context, e api.Event) error {
		stuck <- e.Seq
		<-release // ignores its context: as hung as can be
		return nil
	})
	other := &tally{finished: map[string]bool{}}
	tm := startMaster(t, func(o *Options) {
		o.Listeners = []events.Listener{hung, other}
		o.RetainedApps = 2 * apps
	})
	// Registered after startMaster, so it runs before the master stops.
	t.Cleanup(func() { close(release) })
	fw := newFakeWorker(t, tm, apps, apps*128)
	fw.mustRegister()
	select {
	case <-stuck:
	case <-time.After(10 * time.Second):
		t.Fatal("the hung listener was never called")
	}

	ids := make([]string, apps)
	for i := range ids {
		ids[i] = tm.submit(t, shell("app-"+strconv.Itoa(i)))
	}
	for range apps {
		l := next[*api.LaunchApp](fw)
		fw.report(l.AppID, l.Run, api.AppRunning, nil)
		fw.report(l.AppID, l.Run, api.AppFinished, intp(0))
	}
	testutil.WaitFor(t, 30*time.Second, func() error {
		v, err := tm.ask(t, &api.ListAppsRequest{States: []api.AppState{api.AppFinished}})
		if err != nil {
			return err
		}
		if n := len(v.(*api.AppList).Apps); n != apps {
			return fmt.Errorf("%d of %d applications FINISHED", n, apps)
		}
		return nil
	})

	last := tm.Events().LastSeq()
	testutil.WaitFor(t, 10*time.Second, func() error {
		other.mu.Lock()
		defer other.mu.Unlock()
		if other.lastSeq != last {
			return fmt.Errorf("the other listener is at event %d of %d", other.lastSeq, last)
		}
		return nil
	})
	// Every event reached it, or it was told it missed it (a listener
	// that does nothing keeps up in practice, but need not under -race).
	other.mu.Lock()
	if other.got+other.dropped != last || (other.dropped == 0 && len(other.finished) != apps) {
		t.Errorf("the other listener got %d events and was told of %d missed, of %d; it saw %d of %d apps finish",
			other.got, other.dropped, last, len(other.finished), apps)
	}
	other.mu.Unlock()
	st := tm.stats(t).Listeners
	if len(st) != 2 {
		t.Fatalf("listener stats = %+v", st)
	}
	// The hung one holds the first batch it took (one event or a few,
	// depending on how fast its goroutine woke) and a full queue; the
	// rest is dropped for it alone.
	held := int64(last) - int64(st[0].Dropped) - int64(st[0].Queued)
	if st[0].Queued != events.DefaultQueueSize || held < 1 || held > 10 {
		t.Fatalf("hung listener stats = %+v of %d events: want a full queue, the rest dropped but for the few it holds", st[0], last)
	}
}
