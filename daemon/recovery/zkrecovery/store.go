package zkrecovery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/go-zookeeper/zk"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
)

// multiLimit bounds the estimated encoded size of one multi. ZooKeeper
// refuses requests above jute.maxbuffer (1 MB less a byte by default);
// half of it leaves ample room for the framing we only estimate.
const multiLimit = 512 << 10

// opOverhead over-estimates the bytes one op of a multi adds besides its
// path and data: op header 9, two lengths 8, the open ACL 31, flags 4.
const opOverhead = 64

// loadParallelism bounds the reads Load keeps in flight. The client
// pipelines them on its one connection, so a few dozen hide the round
// trip without queueing much on the server.
const loadParallelism = 32

// Store is the ZooKeeper store: one node per application and per worker.
//
// A batch is written by one multi, all or nothing. A batch larger than
// multiLimit (thousands of records: a mass submission, a recovery) is
// split into several multis, each fenced and atomic. A crash between them
// leaves part of the batch written; none of it was acknowledged yet,
// every record is a whole application or worker, never a delta, and the
// next leader reconciles what it reads with the workers' reports.
type Store struct {
	c       *Client
	apps    string // <dir>/state/apps
	workers string // <dir>/state/workers
	closed  atomic.Bool

	mu sync.Mutex // serialises Commit and Load, which share known
	// known holds the nodes known to exist, so a put becomes a create or
	// a set and a delete of an absent record is skipped; nil until read
	// from ZooKeeper. Should another writer have changed the tree, the
	// multi fails on that op, and known is read again before a retry.
	known map[string]bool
}

// op is one record to write (data) or delete (data nil).
type op struct {
	path string
	data []byte
}

// Store returns the store under <dir>/state, creating its nodes.
func (c *Client) Store(dir string) (*Store, error) {
	dir, err := cleanDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{c: c, apps: dir + "/state/apps", workers: dir + "/state/workers"}
	for _, p := range []string{s.apps, s.workers} {
		if err := c.ensurePath(p); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Commit writes b; see Store for atomicity and the package documentation
// for fencing.
func (s *Store) Commit(ctx context.Context, b *recovery.Batch) error {
	if s.closed.Load() {
		return recovery.ErrClosed
	}
	if b.Empty() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err // not even started: the write must not land later
	}
	ops, err := s.encode(b)
	if err != nil {
		return err
	}
	_, err = call(ctx, func() (struct{}, error) { return struct{}{}, s.commit(ops) })
	return err
}

func (s *Store) encode(b *recovery.Batch) ([]op, error) {
	var ops []op
	for id, info := range b.Apps {
		data, err := msgpack.Marshal(&info)
		if err != nil {
			return nil, fmt.Errorf("zkrecovery: encoding application %s: %w", id, err)
		}
		ops = append(ops, op{s.apps + "/" + nodeName(id), data})
	}
	for id := range b.DeletedApps {
		ops = append(ops, op{path: s.apps + "/" + nodeName(id)})
	}
	for id, info := range b.Workers {
		data, err := msgpack.Marshal(&info)
		if err != nil {
			return nil, fmt.Errorf("zkrecovery: encoding worker %s: %w", id, err)
		}
		ops = append(ops, op{s.workers + "/" + nodeName(id), data})
	}
	for id := range b.DeletedWorkers {
		ops = append(ops, op{path: s.workers + "/" + nodeName(id)})
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path < ops[j].path })
	return ops, nil
}

func (s *Store) commit(ops []op) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return recovery.ErrClosed
	}
	fence, err := s.c.fenceNode()
	if err != nil {
		return err
	}
	for len(ops) > 0 {
		n, size := 0, 0
		for n < len(ops) && (n == 0 || size+len(ops[n].path)+len(ops[n].data)+opOverhead <= multiLimit) {
			size += len(ops[n].path) + len(ops[n].data) + opOverhead
			n++
		}
		if fence != "" && s.c.currentFence() != fence {
			// The check op would refuse too, unless the node outlived
			// the term (a disconnection); no need to send it.
			return fmt.Errorf("%w: the term ended during the commit", ErrNotLeader)
		}
		if err := s.write(fence, ops[:n]); err != nil {
			return err
		}
		ops = ops[n:]
	}
	return nil
}

// write applies ops with one multi, fenced on the election node fence
// unless it is "". It retries once known proves stale.
func (s *Store) write(fence string, ops []op) error {
	for attempt := 0; ; attempt++ {
		if s.known == nil {
			if err := s.list(); err != nil {
				return err
			}
		}
		reqs := make([]any, 0, len(ops)+1)
		if fence != "" {
			reqs = append(reqs, &zk.CheckVersionRequest{Path: fence, Version: -1})
		}
		for _, o := range ops {
			switch {
			case o.data == nil && s.known[o.path]:
				reqs = append(reqs, &zk.DeleteRequest{Path: o.path, Version: -1})
			case o.data == nil: // absent already
			case s.known[o.path]:
				reqs = append(reqs, &zk.SetDataRequest{Path: o.path, Data: o.data, Version: -1})
			default:
				reqs = append(reqs, &zk.CreateRequest{Path: o.path, Data: o.data, Acl: zk.WorldACL(zk.PermAll)})
			}
		}
		if len(reqs) == 0 || (fence != "" && len(reqs) == 1) {
			return nil
		}
		res, err := s.c.conn.Multi(reqs...)
		if err == nil {
			for _, o := range ops {
				if o.data == nil {
					delete(s.known, o.path)
				} else {
					s.known[o.path] = true
				}
			}
			return nil
		}
		if fence != "" && s.fenceFailed(fence, res) {
			return fmt.Errorf("%w: election node %s is gone; another master may lead", ErrNotLeader, fence)
		}
		if (errors.Is(err, zk.ErrNoNode) || errors.Is(err, zk.ErrNodeExists)) && attempt < 2 {
			s.known = nil // another writer changed the tree; read it again
			continue
		}
		if len(res) == 0 {
			s.known = nil // the multi may or may not have been applied
		}
		return fmt.Errorf("zkrecovery: commit: %w", err)
	}
}

// fenceFailed says whether a failed multi failed on its fence check. The
// check is the first op; if the reply carries no per-op results, ask.
func (s *Store) fenceFailed(fence string, res []zk.MultiResponse) bool {
	if len(res) > 0 {
		return res[0].Error != nil
	}
	ok, _, err := s.c.conn.Exists(fence)
	return err == nil && !ok
}

// list reads which records exist into known.
func (s *Store) list() error {
	known := map[string]bool{}
	for _, dir := range []string{s.apps, s.workers} {
		names, err := s.children(dir)
		if err != nil {
			return err
		}
		for _, n := range names {
			known[dir+"/"+n] = true
		}
	}
	s.known = known
	return nil
}

// children lists dir, recreating it if it was removed.
func (s *Store) children(dir string) ([]string, error) {
	names, _, err := s.c.conn.Children(dir)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, s.c.ensurePath(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("zkrecovery: listing %s: %w", dir, err)
	}
	return names, nil
}

// Load reads every record, loadParallelism at a time.
func (s *Store) Load(ctx context.Context) (*recovery.Snapshot, error) {
	if s.closed.Load() {
		return nil, recovery.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return call(ctx, func() (*recovery.Snapshot, error) { return s.load(ctx) })
}

func (s *Store) load(ctx context.Context) (*recovery.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	appNames, err := s.children(s.apps)
	if err != nil {
		return nil, err
	}
	workerNames, err := s.children(s.workers)
	if err != nil {
		return nil, err
	}
	apps := make([]api.AppInfo, len(appNames))
	workers := make([]api.WorkerInfo, len(workerNames))
	found := make([]bool, len(appNames)+len(workerNames))
	errs := make([]error, len(found))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(loadParallelism, len(found)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(found) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				var p string
				var v any
				if i < len(appNames) {
					p, v = s.apps+"/"+appNames[i], &apps[i]
				} else {
					j := i - len(appNames)
					p, v = s.workers+"/"+workerNames[j], &workers[j]
				}
				data, _, err := s.c.conn.Get(p)
				switch {
				case errors.Is(err, zk.ErrNoNode): // deleted since listed
				case err != nil:
					errs[i] = fmt.Errorf("zkrecovery: reading %s: %w", p, err)
				default:
					if err := msgpack.Unmarshal(data, v); err != nil {
						errs[i] = fmt.Errorf("zkrecovery: decoding %s: %w", p, err)
					}
					found[i] = true
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		s.known = nil
		return nil, err
	}
	snap := &recovery.Snapshot{Apps: make([]api.AppInfo, 0, len(apps)), Workers: make([]api.WorkerInfo, 0, len(workers))}
	known := map[string]bool{}
	for i, a := range apps {
		if found[i] {
			snap.Apps = append(snap.Apps, a)
			known[s.apps+"/"+appNames[i]] = true
		}
	}
	for j, w := range workers {
		if found[len(appNames)+j] {
			snap.Workers = append(snap.Workers, w)
			known[s.workers+"/"+workerNames[j]] = true
		}
	}
	s.known = known
	return snap, nil
}

// Close stops the store; the Client stays open.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// nodeName turns an id into a node name: path-escaped, so "/" cannot
// nest, and never "." or "..", which ZooKeeper refuses.
func nodeName(id string) string {
	n := url.PathEscape(id)
	switch n {
	case "", ".", "..":
		n = "%2E" + n // "" too: an empty id is a bug, but must not name the parent
	}
	return n
}
