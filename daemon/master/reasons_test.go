package master

import (
	"testing"

	"github.com/alohasched/aloha/api"
)

// The reasons of waiting apps follow the workers: computed once for apps
// queued behind a full cluster, again when a worker joins.
func TestWaitReasonsFollowWorkers(t *testing.T) {
	tm := startMaster(t, nil)
	id := tm.submit(t, shell("early"))
	tm.waitStateMsg(t, id, "waiting: no workers registered")
	small := newFakeWorker(t, tm, 1, 4096)
	small.mustRegister()
	launch := next[*api.LaunchApp](small)
	if launch.AppID != id {
		t.Fatalf("launched %s, want %s", launch.AppID, id)
	}
	// The only core is taken: the next waits for free resources, and a
	// big one is told that no worker can ever run it.
	queued := tm.submit(t, shell("queued"))
	huge := shell("huge")
	huge.Cores = 8
	big := tm.submit(t, huge)
	tm.waitStateMsg(t, queued, "waiting for free resources")
	tm.waitStateMsg(t, big, "waiting: needs 8 cores, largest worker has 1")
	// A bigger worker joins: the big one is placed there.
	large := newFakeWorker(t, tm, 16, 4096)
	large.mustRegister()
	if l := next[*api.LaunchApp](large); l.AppID != queued && l.AppID != big {
		t.Fatalf("large worker launched %s", l.AppID)
	}
}
