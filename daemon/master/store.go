package master

import (
	"context"

	"github.com/alohasched/aloha/api"
)

// Store keeps what a new leader needs to take over: every application not
// yet final, the retained finished ones, and every worker. The master
// commits a batch before it acknowledges the action that caused it.
type Store interface {
	// Commit makes the batch durable. It is called from one goroutine at a
	// time and may receive several actions' changes merged (group commit).
	Commit(ctx context.Context, b *Batch) error
	// Load reads everything committed so far.
	Load(ctx context.Context) (*Snapshot, error)
}

// Batch is a set of changes to commit together.
type Batch struct {
	Apps           map[string]api.AppInfo // upserts by id
	DeletedApps    map[string]bool
	Workers        map[string]api.WorkerInfo
	DeletedWorkers map[string]bool
}

// Snapshot is what Load returns.
type Snapshot struct {
	Apps    []api.AppInfo
	Workers []api.WorkerInfo
}

func (b *Batch) empty() bool {
	return b == nil || len(b.Apps)+len(b.DeletedApps)+len(b.Workers)+len(b.DeletedWorkers) == 0
}

func (b *Batch) putApp(info api.AppInfo) {
	if b.Apps == nil {
		b.Apps = map[string]api.AppInfo{}
	}
	delete(b.DeletedApps, info.ID)
	b.Apps[info.ID] = info
}

func (b *Batch) deleteApp(id string) {
	if b.DeletedApps == nil {
		b.DeletedApps = map[string]bool{}
	}
	delete(b.Apps, id)
	b.DeletedApps[id] = true
}

func (b *Batch) putWorker(info api.WorkerInfo) {
	if b.Workers == nil {
		b.Workers = map[string]api.WorkerInfo{}
	}
	delete(b.DeletedWorkers, info.ID)
	b.Workers[info.ID] = info
}

func (b *Batch) deleteWorker(id string) {
	if b.DeletedWorkers == nil {
		b.DeletedWorkers = map[string]bool{}
	}
	delete(b.Workers, id)
	b.DeletedWorkers[id] = true
}

// merge folds later changes of o into b.
func (b *Batch) merge(o *Batch) {
	for _, info := range o.Apps {
		b.putApp(info)
	}
	for id := range o.DeletedApps {
		b.deleteApp(id)
	}
	for _, info := range o.Workers {
		b.putWorker(info)
	}
	for id := range o.DeletedWorkers {
		b.deleteWorker(id)
	}
}
