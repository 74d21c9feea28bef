package tui

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alohasched/aloha/api"
)

// maxHistory bounds the state history kept per application.
const maxHistory = 50

// appRow is one application as the UI knows it.
type appRow struct {
	info api.AppInfo
	// lastChange is the master's time of the latest state change applied,
	// so that a replayed event older than the snapshot is skipped.
	lastChange time.Time
	hay        string // lower-case text the filter searches
}

// workerRow is one worker as the UI knows it.
type workerRow struct {
	info api.WorkerInfo
	hay  string
	pos  int
}

// change says what an update touched, so that a table re-sorts or
// re-filters only when a change can move a row.
type change uint8

const (
	chRows     change = 1 << iota // rows added or removed
	chState                       // state or message
	chWorker                      // the worker an app runs on
	chRestarts                    // restarts, times
	chUsage                       // a worker's resources, apps, heartbeat
)

// cluster is the model's data: applications, workers and the leader's
// view of the cluster. Only the model's Update touches it.
type cluster struct {
	apps map[string]*appRow
	// appList is every application, newest first (newestFirst): the
	// order the apps view shows by default, so that rebuilding its index
	// sorts rows already in order.
	appList    []*appRow
	workers    map[string]*workerRow
	workerList []*workerRow
	master     *api.MasterInfo
	maxApps    int

	appChanges, workerChanges change // since the tables last looked

	counted         bool // counts are current
	running, queued int
	failedHour      int
}

func newCluster(maxApps int) *cluster {
	return &cluster{apps: map[string]*appRow{}, workers: map[string]*workerRow{}, maxApps: maxApps}
}

// setSnapshot replaces the applications and workers.
func (c *cluster) setSnapshot(apps []api.AppInfo, workers []api.WorkerInfo) {
	c.apps = make(map[string]*appRow, len(apps))
	c.appList = make([]*appRow, 0, len(apps))
	for _, a := range apps {
		r := &appRow{info: a}
		r.lastChange = lastChange(a)
		c.index(r)
		c.apps[a.ID] = r
		c.appList = append(c.appList, r)
	}
	slices.SortFunc(c.appList, newestFirst)
	c.setWorkers(workers)
	c.appChanges |= chRows
}

// putApp adds an application or replaces what is known of it. A state
// learnt from an event newer than info is kept.
func (c *cluster) putApp(info api.AppInfo) *appRow {
	last := lastChange(info)
	r := c.apps[info.ID]
	if r == nil {
		r = &appRow{info: info}
		c.apps[info.ID] = r
		c.insert(r)
	} else if r.lastChange.After(last) {
		// Events came after what info knows: keep what they said.
		for _, h := range r.info.History {
			if h.Time.After(last) {
				info.History = append(slices.Clip(info.History), h)
			}
		}
		info.State, info.Message = r.info.State, r.info.Message
		info.StartedAt, info.EndedAt = r.info.StartedAt, r.info.EndedAt
		if r.info.WorkerID != "" {
			info.WorkerID, info.WorkerAddr = r.info.WorkerID, r.info.WorkerAddr
		}
		last = r.lastChange
	}
	moved := !r.info.SubmittedAt.Equal(info.SubmittedAt)
	if moved {
		c.remove(r)
	}
	r.info, r.lastChange = info, last
	if moved {
		c.insert(r)
	}
	c.index(r)
	c.appChanges |= chState | chWorker | chRestarts
	c.counted = false
	return r
}

// lastChange is the time of the latest state change info knows.
func lastChange(info api.AppInfo) time.Time {
	if n := len(info.History); n > 0 {
		return info.History[n-1].Time
	}
	return info.SubmittedAt
}

// insert puts r in appList at its place, newest first: at the front for
// a new application, so the copy is of pointers only.
func (c *cluster) insert(r *appRow) {
	i := sort.Search(len(c.appList), func(i int) bool { return newestFirst(c.appList[i], r) > 0 })
	c.appList = slices.Insert(c.appList, i, r)
	c.appChanges |= chRows
}

// remove takes r out of appList.
func (c *cluster) remove(r *appRow) {
	if i := slices.Index(c.appList, r); i >= 0 {
		c.appList = slices.Delete(c.appList, i, i+1)
	}
	c.appChanges |= chRows
}

// index recomputes what the filter searches in an application.
func (c *cluster) index(r *appRow) {
	i := &r.info
	r.hay = strings.ToLower(strings.Join([]string{i.ID, i.Spec.Name, i.Spec.EntryPoint, string(i.State),
		c.workerName(i.WorkerID, i.WorkerAddr), strconv.Itoa(i.Spec.Cores), mem(i.Spec.Memory)}, "\x00"))
}

// workerName is the address of a worker, else its id.
func (c *cluster) workerName(id, addr string) string {
	if addr != "" {
		return addr
	}
	if w := c.workers[id]; w != nil {
		return w.info.Addr
	}
	return id
}

// applyEvent applies one cluster event. It returns the ids of
// applications to fetch (named by the event but unknown here) and whether
// the whole snapshot must be loaded again.
func (c *cluster) applyEvent(e api.Event) (fetch []string, reload bool) {
	switch e.Type {
	case api.EventAppStateChanged:
		r := c.apps[e.AppID]
		if r == nil {
			r = c.putApp(api.AppInfo{ID: e.AppID, State: e.State, SubmittedAt: e.Time})
			r.lastChange = time.Time{}
			fetch = append(fetch, e.AppID)
		}
		c.setState(r, e)
	case api.EventAppRelaunched:
		if r := c.apps[e.AppID]; r != nil {
			r.info.RelaunchedAs = e.NewAppID
		}
		if e.NewAppID != "" && c.apps[e.NewAppID] == nil {
			r := c.putApp(api.AppInfo{ID: e.NewAppID, State: api.AppSubmitted, SubmittedAt: e.Time, RelaunchedFrom: e.AppID})
			r.lastChange = time.Time{}
			fetch = append(fetch, e.NewAppID)
		}
	case api.EventWorkerJoined:
		w := c.workers[e.WorkerID]
		if w == nil {
			w = &workerRow{pos: len(c.workerList)}
			c.workers[e.WorkerID] = w
			c.workerList = append(c.workerList, w)
			w.info = api.WorkerInfo{ID: e.WorkerID, RegisteredAt: e.Time}
			c.workerChanges |= chRows
		}
		w.info.Addr, w.info.State, w.info.LastHeartbeat = e.WorkerAddr, api.WorkerAlive, e.Time
		c.indexWorker(w)
		c.workerChanges |= chState
	case api.EventWorkerLost:
		if w := c.workers[e.WorkerID]; w != nil {
			w.info.State = api.WorkerDead
			c.indexWorker(w)
			c.workerChanges |= chState
		}
	case api.EventLeaderChanged, api.EventLagged:
		reload = true
	}
	return fetch, reload
}

// setState applies an AppStateChanged event unless the application
// already knows a later change.
func (c *cluster) setState(r *appRow, e api.Event) {
	if e.Time.Before(r.lastChange) {
		return
	}
	i := &r.info
	prev := i.State
	i.State, i.Message, r.lastChange = e.State, e.Message, e.Time
	i.History = append(i.History, api.StateChange{State: e.State, Message: e.Message, Time: e.Time})
	if n := len(i.History); n > maxHistory {
		i.History = slices.Clone(i.History[n-maxHistory:])
	}
	if e.WorkerID != "" && e.WorkerID != i.WorkerID {
		i.WorkerID, i.WorkerAddr = e.WorkerID, c.workerName(e.WorkerID, "")
		c.appChanges |= chWorker
	}
	switch {
	case e.State == api.AppRunning:
		i.StartedAt, i.EndedAt = e.Time, time.Time{}
	case e.State.IsFinal() || e.State == api.AppRelaunching:
		i.EndedAt = e.Time
	case e.State == api.AppSubmitted && prev == api.AppFailed:
		// A failed run the restart policy runs again.
		i.Restarts++
		i.EndedAt = time.Time{}
		c.appChanges |= chRestarts
	}
	c.index(r)
	c.appChanges |= chState
	c.counted = false
}

// setWorkers replaces the workers with a fresh list, keeping the rows of
// those still there so that a selection stays put.
func (c *cluster) setWorkers(ws []api.WorkerInfo) {
	seen := make(map[string]bool, len(ws))
	for _, info := range ws {
		seen[info.ID] = true
		w := c.workers[info.ID]
		if w == nil {
			w = &workerRow{pos: len(c.workerList)}
			c.workers[info.ID] = w
			c.workerList = append(c.workerList, w)
			c.workerChanges |= chRows
		}
		w.info = info
		c.indexWorker(w)
	}
	for id, w := range c.workers {
		if !seen[id] {
			c.dropWorker(w)
		}
	}
	c.workerChanges |= chState | chUsage
}

func (c *cluster) dropWorker(w *workerRow) {
	last := c.workerList[len(c.workerList)-1]
	c.workerList[w.pos], last.pos = last, w.pos
	c.workerList = c.workerList[:len(c.workerList)-1]
	delete(c.workers, w.info.ID)
	c.workerChanges |= chRows
}

func (c *cluster) indexWorker(w *workerRow) {
	i := &w.info
	w.hay = strings.ToLower(strings.Join([]string{i.ID, i.Addr, string(i.State),
		strconv.Itoa(i.CoresUsed) + "/" + strconv.Itoa(i.Cores), mem(i.MemoryUsed) + "/" + mem(i.Memory)}, "\x00"))
}

// prune forgets the longest-ended applications when there are more than
// maxApps, down to nine tenths of it so that it runs rarely.
func (c *cluster) prune() {
	if len(c.appList) <= c.maxApps {
		return
	}
	var ended []*appRow
	for _, r := range c.appList {
		if r.info.State.IsFinal() {
			ended = append(ended, r)
		}
	}
	slices.SortFunc(ended, func(a, b *appRow) int { return a.info.EndedAt.Compare(b.info.EndedAt) })
	drop := min(len(ended), len(c.appList)-c.maxApps*9/10)
	for _, r := range ended[:drop] {
		delete(c.apps, r.info.ID)
	}
	c.appList = slices.DeleteFunc(c.appList, func(r *appRow) bool { return c.apps[r.info.ID] != r })
	c.appChanges |= chRows
	c.counted = false
}

// count updates the header's application counts: running (or
// launching), waiting for a worker, and failed in the last hour.
func (c *cluster) count(now time.Time) {
	if c.counted {
		return
	}
	c.running, c.queued, c.failedHour = 0, 0, 0
	hourAgo := now.Add(-time.Hour)
	for _, r := range c.appList {
		switch r.info.State {
		case api.AppRunning, api.AppLaunching:
			c.running++
		case api.AppSubmitted:
			c.queued++
		case api.AppFailed, api.AppError:
			if r.info.EndedAt.After(hourAgo) {
				c.failedHour++
			}
		}
	}
	c.counted = true
}

// takeChanges returns and clears what changed since the last call.
func (c *cluster) takeChanges() (apps, workers change) {
	apps, workers = c.appChanges, c.workerChanges
	c.appChanges, c.workerChanges = 0, 0
	return apps, workers
}
