package fsrecovery

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// run is the elector's goroutine: it wakes standbys on directory events
// and polls. It ends when Close closes done.
func (e *Elector) run() {
	defer e.wg.Done()
	tick := time.NewTicker(e.poll)
	defer tick.Stop()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if e.watcher != nil {
		events, errs = e.watcher.Events, e.watcher.Errors
	}
	for {
		select {
		case <-e.done:
			return
		case <-tick.C:
			e.pollOnce()
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			e.onEvent(ev)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// Typically a queue overflow: events were lost, so look now.
			e.log.Debug("fsrecovery: watching the recovery directory", "error", err.Error())
			e.pollOnce()
		}
	}
}

// onEvent reacts to a change in the directory. Only the election files
// matter: the store's appends raise events too, and are ignored.
func (e *Elector) onEvent(ev fsnotify.Event) {
	if filepath.Clean(ev.Name) == filepath.Clean(e.dir) {
		// The directory itself went away; inotify dropped the watch.
		e.watching = false
		e.pollOnce()
		return
	}
	if name := filepath.Base(ev.Name); name != leaderName && name != lockName {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.term != nil {
		return
	}
	// The record removed or the lock file touched: the leader may have
	// resigned.
	e.storeLeader(e.readRecord())
	e.wakeCampaigns()
}

// pollOnce is the periodic check. A standby rereads the leader record and
// retries the lock (a leader killed with SIGKILL changes nothing on disk:
// only this notices). The leader checks that its lock file is still the
// one at the path, and that the record names it.
func (e *Elector) pollOnce() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	if t := e.term; t != nil {
		if !lockIsCurrent(t.f, e.lockPath) {
			// Another master may now lock a new file at the path.
			e.log.Error("fsrecovery: the lock file was removed or replaced; leadership lost", "epoch", t.epoch)
			e.endTerm(t, "lock file removed or replaced", false)
		} else if url, epoch := e.readRecord(); url != e.url || epoch != t.epoch {
			if err := e.writeRecord(t.epoch); err != nil {
				e.log.Warn("fsrecovery: cannot write the leader record", "error", err.Error())
			}
		}
	} else {
		e.storeLeader(e.readRecord())
		e.wakeCampaigns()
	}
	// The leader need not watch: it would only wake on every append of
	// its own store.
	e.syncWatch(e.term == nil)
}

// syncWatch starts or stops watching the directory. Only the goroutine
// calls it, after NewElector.
func (e *Elector) syncWatch(want bool) {
	switch {
	case e.watcher == nil || want == e.watching:
	case want:
		if err := e.watcher.Add(e.dir); err != nil {
			e.log.Debug("fsrecovery: cannot watch the recovery directory; polling", "error", err.Error())
			return
		}
		e.watching = true
	default:
		e.watcher.Remove(e.dir)
		e.watching = false
	}
}

// record is the content of the leader file.
type record struct {
	URL   string `json:"url"`
	Epoch uint64 `json:"epoch"`
}

// readRecord returns the leader record; "" when there is none or it
// cannot be read.
func (e *Elector) readRecord() (url string, epoch uint64) {
	data, err := os.ReadFile(filepath.Join(e.dir, leaderName))
	if err != nil {
		return "", 0
	}
	var r record
	if json.Unmarshal(data, &r) != nil {
		return "", 0
	}
	return r.URL, r.Epoch
}

// writeRecord writes the leader record of this master. Callers hold the
// lock.
func (e *Elector) writeRecord(epoch uint64) error {
	data, err := json.Marshal(record{URL: e.url, Epoch: epoch})
	if err != nil {
		return err
	}
	return writeFileAtomic(e.dir, leaderName, append(data, '\n'))
}

// storeLeader caches the record for Leader. Callers do not lead, so a
// record naming this master is stale: left by its previous term or
// process.
func (e *Elector) storeLeader(url string, _ uint64) {
	if url == e.url {
		url = ""
	}
	e.leader.Store(&url)
}
