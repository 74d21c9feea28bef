package tui

import (
	"slices"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
)

func wantNewestFirst(t *testing.T, c *cluster) {
	t.Helper()
	if !slices.IsSortedFunc(c.appList, newestFirst) {
		t.Errorf("appList is not newest first")
	}
	if len(c.appList) != len(c.apps) {
		t.Errorf("appList holds %d apps, the map %d", len(c.appList), len(c.apps))
	}
	for _, r := range c.appList {
		if c.apps[r.info.ID] != r {
			t.Errorf("%s is in appList but not the map", r.info.ID)
		}
	}
}

func TestAppListStaysNewestFirst(t *testing.T) {
	c := newCluster(100)
	c.setSnapshot([]api.AppInfo{app(1, "a", api.AppFinished, "w", 3*time.Minute), app(3, "c", api.AppRunning, "w", time.Minute), app(2, "b", api.AppFailed, "w", 2*time.Minute)}, nil)
	wantNewestFirst(t, c)
	// Unknown applications from events: a new one, and an old one whose
	// event (a RUNNING) says nothing of its submission.
	c.applyEvent(api.Event{Type: api.EventAppStateChanged, AppID: app(5, "", "", "", 0).ID, State: api.AppSubmitted, Time: t0})
	c.applyEvent(api.Event{Type: api.EventAppStateChanged, AppID: app(0, "", "", "", 0).ID, State: api.AppRunning, Time: t0})
	wantNewestFirst(t, c)
	// Fetched, the old one moves to its place.
	old := app(0, "old", api.AppRunning, "w", time.Hour)
	old.History[0].Time = t0.Add(-time.Minute)
	c.putApp(old)
	wantNewestFirst(t, c)
	if last := c.appList[len(c.appList)-1]; last.info.Spec.Name != "old" || last.info.State != api.AppRunning {
		t.Errorf("the oldest app is %+v", last.info)
	}
}

func TestPruneDropsTheLongestEnded(t *testing.T) {
	c := newCluster(10)
	var apps []api.AppInfo
	for i := range 20 {
		st := api.AppFinished
		if i%2 == 0 {
			st = api.AppRunning
		}
		apps = append(apps, app(i, "x", st, "w", time.Duration(20-i)*time.Minute))
	}
	c.setSnapshot(apps, nil)
	c.prune()
	// Down to nine tenths of the cap: 9, of which the 10 running stay —
	// only the ended can go, so all 10 ended go.
	if len(c.appList) != 10 {
		t.Errorf("after pruning %d apps are left, want the 10 running", len(c.appList))
	}
	for _, r := range c.appList {
		if r.info.State != api.AppRunning {
			t.Errorf("pruning kept %s (%s)", r.info.ID, r.info.State)
		}
	}
	wantNewestFirst(t, c)
}
