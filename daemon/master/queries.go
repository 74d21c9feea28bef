package master

import (
	"context"
	"sort"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// maxListed bounds one list answer so that it fits a frame even with
// 100,000 retained applications; narrow with states to see others.
const maxListed = 10_000

// maxEventWait bounds how long an events request may wait for news.
const maxEventWait = time.Minute

func (m *Master) appStatus(id string) (*api.AppInfo, error) {
	a := m.apps[id]
	if a == nil {
		return nil, notFound("application", id)
	}
	info := a.info
	return &info, nil
}

// listApps answers newest first: active applications by submission time,
// then retained finished ones by end time. Loop-only.
func (m *Master) listApps(req *api.ListAppsRequest) *api.AppList {
	want := map[api.AppState]bool{}
	for _, s := range req.States {
		want[s] = true
	}
	limit := req.Limit
	if limit <= 0 || limit > maxListed {
		limit = maxListed
	}
	match := func(a *app) bool { return len(want) == 0 || want[a.info.State] }
	var active []*app
	for _, a := range m.apps {
		if !a.info.State.IsFinal() && a.info.State != api.AppRelaunching && match(a) {
			active = append(active, a)
		}
	}
	sort.Slice(active, func(i, j int) bool {
		if !active[i].info.SubmittedAt.Equal(active[j].info.SubmittedAt) {
			return active[i].info.SubmittedAt.After(active[j].info.SubmittedAt)
		}
		return active[i].info.ID > active[j].info.ID
	})
	out := &api.AppList{Apps: make([]api.AppInfo, 0, min(limit, len(active)+len(m.completed)))}
	for _, a := range active {
		if len(out.Apps) == limit {
			return out
		}
		out.Apps = append(out.Apps, a.info)
	}
	for i := len(m.completed) - 1; i >= 0 && len(out.Apps) < limit; i-- {
		if a := m.completed[i]; match(a) {
			out.Apps = append(out.Apps, a.info)
		}
	}
	return out
}

func (m *Master) masterInfo() *api.MasterInfo {
	info := &api.MasterInfo{
		URL: m.opts.URL, State: m.state, Epoch: m.epoch, StartedAt: m.startedAt,
		Version: m.opts.Version, RecoveryMode: m.opts.RecoveryMode,
		WaitingApps: len(m.waiting), CompletedApps: len(m.completed),
	}
	if m.state.IsLeader() {
		info.Leader = m.opts.URL
	} else {
		info.Leader = m.opts.Elector.Leader()
	}
	for _, w := range m.workers {
		if w.info.State != api.WorkerAlive {
			continue
		}
		info.AliveWorkers++
		info.Cores += w.info.Cores
		info.CoresUsed += w.info.CoresUsed
		info.Memory += w.info.Memory
		info.MemoryUsed += w.info.MemoryUsed
	}
	// Every app not retained as ended is active; counting stays O(1) with
	// 100,000 retained apps, so frequent status polls cost nothing.
	info.ActiveApps = len(m.apps) - len(m.completed)
	return info
}

// serveEvents answers an events request from the bus, waiting for news
// when there is none yet. It runs on the endpoint's goroutine and hands
// any wait to a goroutine of its own, so it never holds up the loop.
func (m *Master) serveEvents(msg *wire.Message, req *api.EventsRequest) {
	reply := msg.Defer()
	epoch := m.termEpoch.Load()
	if epoch == 0 {
		reply(nil, m.standbyError())
		return
	}
	evs, next := m.events.Since(req.After, req.Max)
	if len(evs) > 0 || req.Wait <= 0 {
		reply(&api.EventBatch{Events: evs, Epoch: epoch, TermStart: m.termStart.Load()}, nil)
		return
	}
	wait := min(req.Wait, maxEventWait)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-next:
		case <-timer.C:
		case <-m.ctx.Done():
		}
		evs, _ := m.events.Since(req.After, req.Max)
		reply(&api.EventBatch{Events: evs, Epoch: epoch, TermStart: m.termStart.Load()}, nil)
	}()
}

// Backend adapts the master to the REST server (daemon/rest.Backend):
// every call runs on the loop like an RPC.
type Backend struct{ M *Master }

func (b Backend) Submit(ctx context.Context, spec api.AppSpec) (string, error) {
	v, err := b.M.call(ctx, &api.SubmitApp{Spec: spec})
	if err != nil {
		return "", err
	}
	return v.(*api.SubmitAppResponse).AppID, nil
}

func (b Backend) Status(ctx context.Context, id string) (*api.AppInfo, error) {
	v, err := b.M.call(ctx, &api.AppStatusRequest{AppID: id})
	if err != nil {
		return nil, err
	}
	return v.(*api.AppInfo), nil
}

func (b Backend) Kill(ctx context.Context, id string) (*api.KillAppResponse, error) {
	v, err := b.M.call(ctx, &api.KillAppRequest{AppID: id})
	if err != nil {
		return nil, err
	}
	return v.(*api.KillAppResponse), nil
}

func (b Backend) ListApps(ctx context.Context, req api.ListAppsRequest) ([]api.AppInfo, error) {
	v, err := b.M.call(ctx, &req)
	if err != nil {
		return nil, err
	}
	return v.(*api.AppList).Apps, nil
}

func (b Backend) Workers(ctx context.Context) ([]api.WorkerInfo, error) {
	v, err := b.M.call(ctx, &api.ListWorkersRequest{})
	if err != nil {
		return nil, err
	}
	return v.(*api.WorkerList).Workers, nil
}

func (b Backend) MasterInfo(ctx context.Context) (*api.MasterInfo, error) {
	v, err := b.M.call(ctx, &api.MasterStatusRequest{})
	if err != nil {
		return nil, err
	}
	return v.(*api.MasterInfo), nil
}
