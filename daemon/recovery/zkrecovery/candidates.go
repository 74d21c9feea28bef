package zkrecovery

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/alohasched/aloha/daemon/recovery"
)

// Leader returns the URL in the lowest candidate node, "" when there is
// none.
func (e *Elector) Leader() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leader
}

// observe keeps e.leader current: it watches the lowest node, or the
// directory while it is empty, and looks again whenever that fires.
func (e *Elector) observe() {
	defer e.wg.Done()
	wait := 50 * time.Millisecond // after an error; doubles up to a second
	for {
		watch, err := e.look()
		if err != nil {
			select {
			case <-time.After(wait):
			case <-e.done:
				return
			}
			wait = min(2*wait, time.Second)
			continue
		}
		wait = 50 * time.Millisecond
		select {
		case <-watch:
		case <-e.done:
			return
		}
	}
}

func (e *Elector) look() (<-chan zk.Event, error) {
	conn := e.c.conn
	names, _, err := conn.Children(e.dir)
	if err != nil {
		return nil, err
	}
	cands := sortCandidates(names)
	if len(cands) == 0 {
		var watch <-chan zk.Event
		if names, _, watch, err = conn.ChildrenW(e.dir); err != nil {
			return nil, err
		}
		if cands = sortCandidates(names); len(cands) == 0 {
			e.setLeader("")
			return watch, nil
		}
	}
	data, _, watch, err := conn.GetW(e.dir + "/" + cands[0].name)
	if err != nil {
		return nil, err // ErrNoNode: it left meanwhile; look again
	}
	e.setLeader(string(data))
	return watch, nil
}

func (e *Elector) setLeader(url string) {
	e.mu.Lock()
	e.leader = url
	e.mu.Unlock()
}

// candidate is a child of the election directory.
type candidate struct {
	name string
	seq  int64
}

// sortCandidates orders election nodes by sequence number, ignoring
// children that are not ours.
func sortCandidates(names []string) []candidate {
	out := make([]candidate, 0, len(names))
	for _, n := range names {
		if !strings.HasPrefix(n, candidatePrefix) {
			continue
		}
		if s := seqOf(n); s >= 0 {
			out = append(out, candidate{n, s})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// seqOf is the sequence number ZooKeeper appended to a node's name (ten
// digits), -1 if there is none.
func seqOf(name string) int64 {
	if len(name) < 10 {
		return -1
	}
	s, err := strconv.ParseInt(name[len(name)-10:], 10, 64)
	if err != nil || s < 0 {
		return -1
	}
	return s
}

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// permanent says whether a Campaign error will not heal by retrying.
func permanent(err error) bool {
	for _, p := range []error{zk.ErrNoAuth, zk.ErrAuthFailed, zk.ErrInvalidACL, zk.ErrBadArguments, zk.ErrInvalidPath, recovery.ErrClosed} {
		if errors.Is(err, p) {
			return true
		}
	}
	return false
}
