package fsrecovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"

	"github.com/alohasched/aloha/daemon/recovery"
)

// Election files; see the package comment.
const (
	lockName   = "lock"
	epochName  = "epoch"
	leaderName = "leader"
)

// DefaultPollInterval is ElectorOptions.PollInterval when it is zero. It
// bounds how long a standby takes to notice a leader killed by SIGKILL,
// and a leader to notice its lock file replaced.
const DefaultPollInterval = 250 * time.Millisecond

// ElectorOptions tunes an Elector; the zero value is the default.
type ElectorOptions struct {
	// PollInterval is how often a standby retries the lock and rereads
	// the leader record, and the leader checks its lock file.
	PollInterval time.Duration
}

// Elector is the FILESYSTEM recovery.Elector: a flock(2) on the file lock
// in the shared directory. NewElector starts one goroutine, which watches
// the directory and polls; Close ends it.
type Elector struct {
	dir, url, lockPath string
	log                *slog.Logger
	poll               time.Duration
	watcher            *fsnotify.Watcher // nil without inotify: polling only

	// leader is the URL Leader returns: ours while leading, else the
	// leader record as last read.
	leader atomic.Pointer[string]

	done chan struct{} // closed by Close: the goroutine and Campaigns end
	wg   sync.WaitGroup

	mu       sync.Mutex // held across the disk I/O of taking and ending a term
	closed   bool
	term     *term
	kick     chan struct{} // closed and replaced when the lock may be free
	watching bool          // the directory is watched; only the goroutine uses it
}

// term is the lock held for one leadership term.
type term struct {
	f     *os.File // the locked descriptor, open for the whole term
	epoch uint64
	lost  chan struct{}
}

var _ recovery.Elector = (*Elector)(nil)

// NewElector returns the elector of the master at url (aloha://host:port)
// among those sharing dir, creating dir if needed.
func NewElector(dir, url string, log *slog.Logger, opts ElectorOptions) (*Elector, error) {
	if dir == "" {
		return nil, fmt.Errorf("fsrecovery: no recovery directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fsrecovery: creating the recovery directory: %w", err)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Elector{dir: dir, url: url, lockPath: filepath.Join(dir, lockName), log: log.With("dir", dir, "url", url),
		poll: opts.PollInterval, done: make(chan struct{}), kick: make(chan struct{})}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		e.log.Warn("fsrecovery: cannot watch the recovery directory; standbys rely on polling", "error", err.Error(), "poll", e.poll)
	} else {
		e.watcher = w
		e.syncWatch(true)
	}
	e.storeLeader(e.readRecord())
	e.wg.Add(1)
	go e.run()
	return e, nil
}

// Campaign blocks until this elector holds the lock, then starts a term.
// It fails when ctx ends, the elector is closed, or the directory cannot
// be used.
func (e *Elector) Campaign(ctx context.Context) (*recovery.Term, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return nil, recovery.ErrClosed
		}
		if e.term != nil {
			e.mu.Unlock()
			return nil, errors.New("fsrecovery: Campaign while leading")
		}
		kick := e.kick // taken before trying, so no wake-up is missed
		t, err := e.acquire()
		e.mu.Unlock()
		if err != nil || t != nil {
			return t, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-e.done:
			return nil, recovery.ErrClosed
		case <-kick:
		}
	}
}

// Leader returns the URL of the leader: this master while it leads, else
// the leader record. After a leader is killed the record names it until a
// standby takes over, at most about one PollInterval later.
func (e *Elector) Leader() string {
	if p := e.leader.Load(); p != nil {
		return *p
	}
	return ""
}

// Close resigns any term and stops the goroutine; Campaigns in progress
// return recovery.ErrClosed.
func (e *Elector) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	if e.term != nil {
		e.endTerm(e.term, "closed", true)
	}
	e.mu.Unlock()
	close(e.done)
	e.wg.Wait()
	if e.watcher != nil {
		return e.watcher.Close()
	}
	return nil
}

// acquire tries the lock once. It returns no term and no error when
// another master holds it. Callers hold e.mu.
func (e *Elector) acquire() (*recovery.Term, error) {
	// Read-only is enough to flock, and closing a read-only descriptor
	// raises no inotify event that would wake every other standby.
	f, err := os.OpenFile(e.lockPath, os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("fsrecovery: opening the lock file: %w", err)
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("fsrecovery: locking %s: %w", e.lockPath, err)
	}
	// The path may have been replaced between open and flock; then we
	// locked a file nobody else will open. Try again on the next wake-up.
	if !lockIsCurrent(f, e.lockPath) {
		flock(f, unix.LOCK_UN)
		f.Close()
		return nil, nil
	}
	epoch, err := e.nextEpoch()
	if err != nil {
		flock(f, unix.LOCK_UN)
		f.Close()
		return nil, err
	}
	t := &term{f: f, epoch: epoch, lost: make(chan struct{})}
	e.term = t
	e.leader.Store(&e.url)
	if err := e.writeRecord(epoch); err != nil {
		// The record only informs standbys; the poll rewrites it.
		e.log.Warn("fsrecovery: cannot write the leader record", "error", err.Error())
	}
	e.log.Info("fsrecovery: lock taken; leading", "epoch", epoch)
	var once sync.Once
	resign := func() {
		once.Do(func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.endTerm(t, "resigned", true)
		})
	}
	return &recovery.Term{Epoch: epoch, Lost: t.lost, Resign: resign}, nil
}

// nextEpoch persists and returns the epoch of a new term. Callers hold
// the lock.
func (e *Elector) nextEpoch() (uint64, error) {
	var last uint64
	data, err := os.ReadFile(filepath.Join(e.dir, epochName))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return 0, fmt.Errorf("fsrecovery: reading the epoch: %w", err)
	default:
		// A file written by rename after fsync is whole; a bad one means
		// outside damage, and guessing an epoch could repeat one.
		if last, err = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64); err != nil {
			return 0, fmt.Errorf("fsrecovery: the epoch file %s is damaged: %w", filepath.Join(e.dir, epochName), err)
		}
	}
	// At least the clock in milliseconds: a directory wiped (it lives in
	// /tmp by default) or new must still give epochs above those workers
	// saw, including the clock-based ones of recovery mode NONE.
	next := max(last+1, uint64(time.Now().UnixMilli()))
	if err := writeFileAtomic(e.dir, epochName, []byte(strconv.FormatUint(next, 10)+"\n")); err != nil {
		return 0, fmt.Errorf("fsrecovery: writing the epoch: %w", err)
	}
	return next, nil
}

// endTerm gives up t: removes the leader record if asked and still ours,
// unlocks, and closes Lost. Callers hold e.mu.
func (e *Elector) endTerm(t *term, why string, removeRecord bool) {
	if e.term != t {
		return
	}
	e.term = nil
	if removeRecord {
		if url, epoch := e.readRecord(); url == e.url && epoch == t.epoch {
			if err := os.Remove(filepath.Join(e.dir, leaderName)); err != nil && !os.IsNotExist(err) {
				e.log.Warn("fsrecovery: cannot remove the leader record", "error", err.Error())
			}
		}
	}
	flock(t.f, unix.LOCK_UN)
	// An unlock raises no inotify event: touch the file so standbys
	// waiting on one take over now rather than at their next poll.
	if fi, err := t.f.Stat(); err == nil {
		t.f.Chmod(fi.Mode().Perm())
	}
	t.f.Close()
	close(t.lost)
	e.storeLeader(e.readRecord())
	e.wakeCampaigns()
	e.log.Info("fsrecovery: leadership ended", "epoch", t.epoch, "reason", why)
}

// wakeCampaigns makes waiting Campaigns try the lock. Callers hold e.mu.
func (e *Elector) wakeCampaigns() {
	close(e.kick)
	e.kick = make(chan struct{})
}

// lockIsCurrent says whether the path still names the file f has open.
func lockIsCurrent(f *os.File, path string) bool {
	held, err := f.Stat()
	if err != nil {
		return false
	}
	now, err := os.Stat(path)
	return err == nil && os.SameFile(held, now)
}

func flock(f *os.File, how int) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) {
		for {
			if ferr = unix.Flock(int(fd), how); ferr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
}
