// Package recovery is what lets a master crash without losing work: the
// Store that keeps every application not yet final, the retained
// finished ones and every worker, written before the master acknowledges
// the action; and the Elector that decides which of several masters
// leads, numbering every leadership term with a strictly increasing
// epoch.
//
// The master consumes these interfaces; recovery modes implement them:
// NONE (in memory, a single master), FILESYSTEM (package
// recovery/fsrecovery: a directory shared by the masters) and ZOOKEEPER
// (package recovery/zkrecovery). Both real implementations pass the same
// conformance tests (recoverytest).
package recovery

import (
	"context"
	"errors"

	"github.com/alohasched/aloha/api"
)

// Store keeps what a new leader needs to take over.
type Store interface {
	// Commit makes the batch durable before it returns. The master calls
	// it from one goroutine, merging the changes of every action that
	// queued up meanwhile into one batch (group commit).
	Commit(ctx context.Context, b *Batch) error
	// Load reads everything committed so far.
	Load(ctx context.Context) (*Snapshot, error)
	// Close releases the store's resources.
	Close() error
}

// Batch is a set of changes committed together. A later change of the
// same id replaces an earlier one.
type Batch struct {
	Apps           map[string]api.AppInfo    `msgpack:"apps,omitempty"`
	DeletedApps    map[string]bool           `msgpack:"deletedApps,omitempty"`
	Workers        map[string]api.WorkerInfo `msgpack:"workers,omitempty"`
	DeletedWorkers map[string]bool           `msgpack:"deletedWorkers,omitempty"`
}

// Snapshot is everything a Store holds.
type Snapshot struct {
	Apps    []api.AppInfo    `msgpack:"apps"`
	Workers []api.WorkerInfo `msgpack:"workers"`
}

// Empty says whether the batch changes nothing.
func (b *Batch) Empty() bool {
	return b == nil || len(b.Apps)+len(b.DeletedApps)+len(b.Workers)+len(b.DeletedWorkers) == 0
}

// PutApp records an application's current state.
func (b *Batch) PutApp(info api.AppInfo) {
	if b.Apps == nil {
		b.Apps = map[string]api.AppInfo{}
	}
	delete(b.DeletedApps, info.ID)
	b.Apps[info.ID] = info
}

// DeleteApp forgets an application.
func (b *Batch) DeleteApp(id string) {
	if b.DeletedApps == nil {
		b.DeletedApps = map[string]bool{}
	}
	delete(b.Apps, id)
	b.DeletedApps[id] = true
}

// PutWorker records a worker's current state.
func (b *Batch) PutWorker(info api.WorkerInfo) {
	if b.Workers == nil {
		b.Workers = map[string]api.WorkerInfo{}
	}
	delete(b.DeletedWorkers, info.ID)
	b.Workers[info.ID] = info
}

// DeleteWorker forgets a worker.
func (b *Batch) DeleteWorker(id string) {
	if b.DeletedWorkers == nil {
		b.DeletedWorkers = map[string]bool{}
	}
	delete(b.Workers, id)
	b.DeletedWorkers[id] = true
}

// Merge folds the later changes of o into b.
func (b *Batch) Merge(o *Batch) {
	for _, info := range o.Apps {
		b.PutApp(info)
	}
	for id := range o.DeletedApps {
		b.DeleteApp(id)
	}
	for _, info := range o.Workers {
		b.PutWorker(info)
	}
	for id := range o.DeletedWorkers {
		b.DeleteWorker(id)
	}
}

// Apply applies a batch to a snapshot held as maps; stores use it to
// replay their logs.
func (s *State) Apply(b *Batch) {
	for id, info := range b.Apps {
		s.Apps[id] = info
	}
	for id := range b.DeletedApps {
		delete(s.Apps, id)
	}
	for id, info := range b.Workers {
		s.Workers[id] = info
	}
	for id := range b.DeletedWorkers {
		delete(s.Workers, id)
	}
}

// State is a snapshot held as maps by id, convenient for replaying.
type State struct {
	Apps    map[string]api.AppInfo
	Workers map[string]api.WorkerInfo
}

// NewState returns an empty State.
func NewState() *State {
	return &State{Apps: map[string]api.AppInfo{}, Workers: map[string]api.WorkerInfo{}}
}

// Snapshot returns the state as a Snapshot.
func (s *State) Snapshot() *Snapshot {
	out := &Snapshot{Apps: make([]api.AppInfo, 0, len(s.Apps)), Workers: make([]api.WorkerInfo, 0, len(s.Workers))}
	for _, a := range s.Apps {
		out.Apps = append(out.Apps, a)
	}
	for _, w := range s.Workers {
		out.Workers = append(out.Workers, w)
	}
	return out
}

// Elector decides which master leads.
type Elector interface {
	// Campaign blocks until this master leads, then returns the term. It
	// fails when ctx ends or the elector cannot work (storage gone).
	Campaign(ctx context.Context) (*Term, error)
	// Leader returns the aloha:// URL of the current leader, "" when
	// unknown. Standbys use it to send clients and workers on.
	Leader() string
	// Close resigns any term held, so a standby can take over at once,
	// and releases the elector's resources.
	Close() error
}

// Term is one leadership term.
type Term struct {
	// Epoch is strictly greater than the epoch of every earlier term.
	Epoch uint64
	// Lost is closed when leadership is lost (a ZooKeeper session expired,
	// the lock file vanished): the master must stop acting at once.
	Lost <-chan struct{}
	// Resign gives up the term; Lost is closed then too.
	Resign func()
}

// ErrClosed is returned by a closed Store or Elector.
var ErrClosed = errors.New("recovery: closed")
