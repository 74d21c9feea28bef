package worker

import (
	"fmt"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/internal/testutil"
)

func TestStatsCountLaunchesAndExits(t *testing.T) {
	fm := newFakeMaster(t)
	tw := startWorker(t, fm, t.TempDir(), nil)
	if st := tw.Stats(); st.AppsRunning != 0 || st.Launches != 0 || st.Exits[api.AppFinished] != 0 {
		t.Fatalf("Stats() of a fresh worker = %+v", st)
	}
	ok, bad, long := newID(), newID(), newID()
	fm.launch(ok, 1, shellSpec("true"))
	fm.launch(bad, 1, shellSpec("exit 3"))
	fm.launch(long, 1, shellSpec("sleep 60"))
	fm.waitReport(ok, api.AppFinished)
	fm.waitReport(bad, api.AppFailed)
	fm.waitReport(long, api.AppRunning)
	testutil.WaitFor(t, 10*time.Second, func() error {
		st := tw.Stats()
		if st.AppsRunning != 1 || st.Launches != 3 || st.Exits[api.AppFinished] != 1 || st.Exits[api.AppFailed] != 1 || st.Exits[api.AppKilled] != 0 {
			return fmt.Errorf("Stats() = %+v, want 1 running, 3 launches, 1 finished, 1 failed", st)
		}
		return nil
	})
	if err := fm.order(&api.KillApp{Epoch: fm.epoch, AppID: long, Run: 1}); err != nil {
		t.Fatal(err)
	}
	fm.waitReport(long, api.AppKilled)
	testutil.WaitFor(t, 10*time.Second, func() error {
		if st := tw.Stats(); st.AppsRunning != 0 || st.Exits[api.AppKilled] != 1 {
			return fmt.Errorf("Stats() = %+v, want none running and 1 killed", st)
		}
		return nil
	})
}
