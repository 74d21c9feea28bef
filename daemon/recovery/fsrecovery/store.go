package fsrecovery

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/alohasched/aloha/daemon/recovery"
)

// DefaultCompactBytes is StoreOptions.CompactBytes when it is zero: big
// enough that snapshots are rare, small enough that Load replays quickly.
const DefaultCompactBytes = 64 << 20

// StoreOptions tunes a Store; the zero value is the default.
type StoreOptions struct {
	// CompactBytes: a snapshot is written once the log written since the
	// last one exceeds both CompactBytes and the size of that snapshot.
	CompactBytes int64
}

// Store is the FILESYSTEM recovery.Store: a write-ahead log with
// snapshots in a directory. Its methods may be called from any goroutine;
// they are serialised.
type Store struct {
	dir  string
	log  *slog.Logger
	opts StoreOptions

	mu     sync.Mutex // held across disk I/O: Commit, Load and Close serialise
	closed bool
	// ready: the directory has been read and taken over as its writer;
	// the fields below describe it. False again after a failed append, so
	// the next Commit reads the directory afresh instead of trusting an
	// offset a failed write may have moved.
	ready     bool
	state     rawState
	seg       *os.File // open segment; nil until a Commit needs one
	segName   string
	nextSeq   uint64 // the number the next file takes
	logBytes  int64  // log written since the last snapshot attempt
	snapBytes int64  // size of the newest snapshot
	frame     bytes.Buffer
	enc       *msgpack.Encoder // writes into frame
}

var _ recovery.Store = (*Store)(nil)

// OpenStore opens the store in dir, creating the directory if needed. It
// reads and writes nothing else: a standby opens its store while the
// leader writes to the directory.
func OpenStore(dir string, log *slog.Logger) (*Store, error) {
	return OpenStoreWith(dir, log, StoreOptions{})
}

// OpenStoreWith is OpenStore with options.
func OpenStoreWith(dir string, log *slog.Logger, opts StoreOptions) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("fsrecovery: no recovery directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fsrecovery: creating the recovery directory: %w", err)
	}
	if opts.CompactBytes <= 0 {
		opts.CompactBytes = DefaultCompactBytes
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{dir: dir, log: log.With("dir", dir), opts: opts}
	s.enc = msgpack.NewEncoder(&s.frame)
	return s, nil
}

// Commit appends b to the log and syncs it. The first Commit after
// OpenStore or a failed one reads the directory first (see Load).
func (s *Store) Commit(ctx context.Context, b *recovery.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return recovery.ErrClosed
	}
	if b.Empty() {
		return nil
	}
	if !s.ready {
		if err := s.takeOver(ctx); err != nil {
			return err
		}
	}
	rb, err := encodeBatch(b)
	if err != nil {
		return err
	}
	frame, err := s.encodeFrame(rb)
	if err != nil {
		return err
	}
	if err := s.appendFrame(frame); err != nil {
		s.abandon()
		return err
	}
	s.state.apply(rb)
	s.logBytes += int64(len(frame))
	if s.logBytes >= max(s.opts.CompactBytes, s.snapBytes) {
		s.compact()
	}
	return nil
}

// Load reads everything committed so far: the newest snapshot and the
// segments after it. It also takes the directory over as its writer (cuts
// a torn tail, removes leftovers), so only the leader may call it; the
// next Commit starts a new segment.
func (s *Store) Load(ctx context.Context) (*recovery.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, recovery.ErrClosed
	}
	// Read from disk even if this store wrote last: another master may
	// have led, and written, since.
	s.abandon()
	if err := s.takeOver(ctx); err != nil {
		return nil, err
	}
	return s.state.decode()
}

// Close closes the open segment; the store refuses every call afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.seg != nil {
		err = s.seg.Close()
	}
	s.seg, s.ready, s.state = nil, false, rawState{}
	return err
}

// encodeFrame encodes rb after a reserved header and seals it. The frame
// is valid until the next call.
func (s *Store) encodeFrame(rb *rawBatch) ([]byte, error) {
	var header [frameHeader]byte
	s.frame.Reset()
	s.frame.Write(header[:])
	if err := s.enc.Encode(rb); err != nil {
		return nil, fmt.Errorf("fsrecovery: encoding a batch: %w", err)
	}
	frame := s.frame.Bytes()
	return frame, sealFrame(frame)
}

// appendFrame writes frame at the end of the open segment, creating one
// first if needed, and syncs it.
func (s *Store) appendFrame(frame []byte) error {
	if s.seg == nil {
		name := walName(s.nextSeq)
		f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("fsrecovery: creating a log segment: %w", err)
		}
		s.nextSeq++
		s.seg, s.segName = f, name
		// Records synced into a file whose directory entry is not are
		// lost with it.
		if err := syncDir(s.dir); err != nil {
			return fmt.Errorf("fsrecovery: syncing the recovery directory: %w", err)
		}
	}
	if _, err := s.seg.Write(frame); err != nil {
		return fmt.Errorf("fsrecovery: appending to %s: %w", s.segName, err)
	}
	if err := fdatasync(s.seg); err != nil {
		return fmt.Errorf("fsrecovery: syncing %s: %w", s.segName, err)
	}
	return nil
}

// abandon forgets the writer state; the next Commit or Load reads the
// directory again. A partly written record is then the last segment's
// torn tail, and is cut off.
func (s *Store) abandon() {
	if s.seg != nil {
		s.seg.Close()
	}
	s.seg, s.ready, s.state = nil, false, rawState{}
}

// compact writes a snapshot of the state, moves on to a new segment and
// removes the files the snapshot makes obsolete. The Commit that triggered
// it is already durable, so a failure here is only logged, and retried
// after as much log again.
func (s *Store) compact() {
	seq := s.nextSeq
	s.nextSeq++
	// From here on a snapshot-seq may exist, and Load ignores segments
	// below it: later records must go to a segment numbered above it,
	// whether or not the snapshot is written.
	s.seg.Close()
	s.seg = nil
	s.logBytes = 0
	frame, err := s.encodeFrame(&rawBatch{Apps: s.state.apps, Workers: s.state.workers})
	if err == nil {
		err = writeFileAtomic(s.dir, snapshotName(seq), frame)
	}
	if err != nil {
		// The older snapshot and segments stay, and still hold it all.
		s.log.Warn("fsrecovery: cannot write a snapshot; the log keeps growing", "file", snapshotName(seq), "error", err.Error())
		return
	}
	s.snapBytes = int64(len(frame))
	s.removeBelow(seq)
	// Do not keep a snapshot-sized buffer for records a fraction of it.
	s.frame = bytes.Buffer{}
}

// removeBelow removes the segments and snapshots that the durable
// snapshot-seq makes obsolete. One left behind is harmless: Load ignores
// it and the next writer removes it.
func (s *Store) removeBelow(seq uint64) {
	l, err := listDir(s.dir)
	if err != nil {
		s.log.Warn("fsrecovery: cannot remove obsolete files", "error", err.Error())
		return
	}
	var names []string
	for _, n := range l.segments {
		if n < seq {
			names = append(names, walName(n))
		}
	}
	for _, n := range l.snapshots {
		if n < seq {
			names = append(names, snapshotName(n))
		}
	}
	for _, name := range names {
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !os.IsNotExist(err) {
			s.log.Warn("fsrecovery: cannot remove an obsolete file", "file", name, "error", err.Error())
		}
	}
}
