package fsrecovery

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
	"golang.org/x/sys/unix"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
)

// rawBatch is a recovery.Batch whose applications and workers stay
// encoded: it encodes to the same bytes as the Batch, and lets the store
// keep its state as msgpack, which costs nothing to write into a snapshot
// and shares no memory with the master's values.
type rawBatch struct {
	Apps           map[string]msgpack.RawMessage `msgpack:"apps,omitempty"`
	DeletedApps    map[string]bool               `msgpack:"deletedApps,omitempty"`
	Workers        map[string]msgpack.RawMessage `msgpack:"workers,omitempty"`
	DeletedWorkers map[string]bool               `msgpack:"deletedWorkers,omitempty"`
}

func encodeBatch(b *recovery.Batch) (*rawBatch, error) {
	rb := &rawBatch{DeletedApps: b.DeletedApps, DeletedWorkers: b.DeletedWorkers}
	var err error
	if rb.Apps, err = encodeEach(b.Apps); err != nil {
		return nil, err
	}
	if rb.Workers, err = encodeEach(b.Workers); err != nil {
		return nil, err
	}
	return rb, nil
}

func encodeEach[T any](m map[string]T) (map[string]msgpack.RawMessage, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]msgpack.RawMessage, len(m))
	for id, v := range m {
		raw, err := msgpack.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("fsrecovery: encoding %s: %w", id, err)
		}
		out[id] = raw
	}
	return out, nil
}

// rawState is the state by id, encoded.
type rawState struct {
	apps, workers map[string]msgpack.RawMessage
}

func newRawState() rawState {
	return rawState{apps: map[string]msgpack.RawMessage{}, workers: map[string]msgpack.RawMessage{}}
}

// apply is recovery.State.Apply on encoded values.
func (s *rawState) apply(b *rawBatch) {
	for id, v := range b.Apps {
		s.apps[id] = v
	}
	for id := range b.DeletedApps {
		delete(s.apps, id)
	}
	for id, v := range b.Workers {
		s.workers[id] = v
	}
	for id := range b.DeletedWorkers {
		delete(s.workers, id)
	}
}

// decode returns the state as a Snapshot, sorted by id.
func (s *rawState) decode() (*recovery.Snapshot, error) {
	out := &recovery.Snapshot{Apps: make([]api.AppInfo, 0, len(s.apps)), Workers: make([]api.WorkerInfo, 0, len(s.workers))}
	for _, id := range slices.Sorted(maps.Keys(s.apps)) {
		var a api.AppInfo
		if err := msgpack.Unmarshal(s.apps[id], &a); err != nil {
			return nil, fmt.Errorf("fsrecovery: decoding application %s: %w", id, err)
		}
		out.Apps = append(out.Apps, a)
	}
	for _, id := range slices.Sorted(maps.Keys(s.workers)) {
		var w api.WorkerInfo
		if err := msgpack.Unmarshal(s.workers[id], &w); err != nil {
			return nil, fmt.Errorf("fsrecovery: decoding worker %s: %w", id, err)
		}
		out.Workers = append(out.Workers, w)
	}
	return out, nil
}

// takeOver reads the directory into the state and makes it safe to
// append to: removes leftover temporaries, cuts a torn tail off the last
// segment and removes files an interrupted compaction left.
func (s *Store) takeOver(ctx context.Context) error {
	l, err := listDir(s.dir)
	if err != nil {
		return err
	}
	for _, name := range l.temps {
		s.log.Warn("fsrecovery: skipping and removing a leftover temporary file", "file", name)
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("fsrecovery: removing %s: %w", name, err)
		}
	}
	state := newRawState()
	var base uint64 // the newest snapshot; 0: none
	var snapBytes, logBytes int64
	if len(l.snapshots) > 0 {
		base = l.snapshots[len(l.snapshots)-1]
		// An unreadable newest snapshot is an error, not a reason to fall
		// back to an older one: the segments between them are gone.
		n, err := s.replay(snapshotName(base), &state, true, false)
		if err != nil {
			return err
		}
		snapBytes = n
	}
	live := slices.DeleteFunc(slices.Clone(l.segments), func(seq uint64) bool { return seq < base })
	for i, seq := range live {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := s.replay(walName(seq), &state, false, i == len(live)-1)
		if err != nil {
			return err
		}
		logBytes += n
	}
	s.state, s.nextSeq, s.ready = state, l.maxSeq+1, true
	s.logBytes, s.snapBytes = logBytes, snapBytes
	if base > 0 {
		s.removeBelow(base)
	}
	return nil
}

// replay applies the records of one file to state and returns the length
// of its valid part. A snapshot must be exactly one record. The last
// segment may end in a torn record, which is cut off.
func (s *Store) replay(name string, state *rawState, snapshot, last bool) (int64, error) {
	path := filepath.Join(s.dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("fsrecovery: reading %s: %w", name, err)
	}
	off, records := 0, 0
	for off < len(data) {
		payload, next, err := readFrame(data, off)
		if err != nil {
			if !last {
				return 0, fmt.Errorf("fsrecovery: %s: bad record at offset %d: %w", name, off, err)
			}
			return int64(off), s.cutTail(name, data, off, err)
		}
		var rb rawBatch
		if err := msgpack.Unmarshal(payload, &rb); err != nil {
			// It passed its checksum: written so, not torn. Refuse
			// rather than guess.
			return 0, fmt.Errorf("fsrecovery: %s: undecodable record at offset %d: %w", name, off, err)
		}
		state.apply(&rb)
		off, records = next, records+1
	}
	if snapshot && records != 1 {
		return 0, fmt.Errorf("fsrecovery: %s: %d records in a snapshot, want 1", name, records)
	}
	return int64(off), nil
}

// cutTail handles a bad record at off in the last segment: a torn tail
// unless a valid record follows it.
func (s *Store) cutTail(name string, data []byte, off int, cause error) error {
	at, found, exhausted := validFrameAfter(data, off)
	switch {
	case found:
		return fmt.Errorf("fsrecovery: %s: bad record at offset %d (%v) followed by a valid one at offset %d", name, off, cause, at)
	case exhausted:
		return fmt.Errorf("fsrecovery: %s: bad record at offset %d (%v); the %d bytes after it are too many to tell whether it is a torn tail", name, off, cause, len(data)-off)
	}
	s.log.Warn("fsrecovery: ignoring a torn record at the end of the log (a crash during a write)",
		"file", name, "offset", off, "bytes", len(data)-off, "reason", cause.Error())
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("fsrecovery: cutting the torn tail of %s: %w", name, err)
	}
	defer f.Close()
	if err := f.Truncate(int64(off)); err != nil {
		return fmt.Errorf("fsrecovery: cutting the torn tail of %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsrecovery: cutting the torn tail of %s: %w", name, err)
	}
	return nil
}

// fdatasync syncs a file's data and the size that reaches it, not its
// times: enough for an append, and cheaper than fsync.
func fdatasync(f *os.File) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		for {
			if serr = unix.Fdatasync(int(fd)); serr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return serr
}
