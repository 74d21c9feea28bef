package master

import (
	"context"
	"fmt"

	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/wire"
)

// persist commits b, then runs then on the loop, if this master still
// leads the term that made the change. With no store, then runs at once.
// Orders to workers are sent from continuations, so they leave in commit
// order and only once their cause is durable. Loop-only.
func (m *Master) persist(b *recovery.Batch, then func()) {
	m.persistOr(b, then, nil)
}

// persistReply is persist for an acknowledgement: if the commit fails,
// the request is answered with an error instead. Loop-only.
func (m *Master) persistReply(b *recovery.Batch, r request, answer func() (any, error)) {
	m.persistOr(b, func() { r.reply(answer()) }, func(err error) {
		r.reply(nil, &wire.RemoteError{Code: wire.CodeInternal, Message: "not recorded: " + err.Error()})
	})
}

func (m *Master) persistOr(b *recovery.Batch, then func(), fail func(error)) {
	if m.opts.Store == nil {
		then()
		return
	}
	m.commitMu.Lock()
	m.commitQueue = append(m.commitQueue, commit{batch: b, term: m.term, then: then, fail: fail})
	m.commitMu.Unlock()
	select {
	case m.commitSignal <- struct{}{}:
	default:
	}
}

// commitLoop writes batches, merging every batch that queued up while the
// previous write ran into one (group commit), so persistence does not
// serialise submissions.
func (m *Master) commitLoop(ctx context.Context) {
	defer m.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.commitSignal:
		}
		m.commitMu.Lock()
		queued := m.commitQueue
		m.commitQueue = nil
		m.commitMu.Unlock()
		if len(queued) == 0 {
			continue
		}
		// Only the current term's changes are written; the others are
		// failed (their continuations would not run anyway).
		cur := m.curTerm.Load()
		var stale []commit
		merged := &recovery.Batch{}
		live := queued[:0]
		for _, c := range queued {
			if c.term != cur || cur == nil {
				stale = append(stale, c)
				continue
			}
			merged.Merge(c.batch)
			live = append(live, c)
		}
		var err error
		if len(live) > 0 {
			err = m.opts.Store.Commit(ctx, merged)
		}
		m.post(func() {
			m.abandon(stale)
			if len(live) > 0 {
				m.committed(live, err)
			}
		})
	}
}

// committed runs the continuations of a written batch, or fails them.
// Continuations of an earlier term never run: their orders would carry a
// deposed epoch. Loop-only.
func (m *Master) committed(batch []commit, err error) {
	if err != nil {
		// Nothing is acknowledged that is not durable: a leader that
		// cannot write stops leading rather than lie.
		for _, c := range batch {
			if c.fail != nil {
				c.fail(err)
			}
		}
		if m.term != nil && m.term == batch[len(batch)-1].term {
			m.stepDown(fmt.Sprintf("cannot persist state: %v", err))
		}
		return
	}
	for _, c := range batch {
		switch {
		case c.term == m.term:
			c.then()
		case c.fail != nil:
			c.fail(fmt.Errorf("leadership changed before the change was acknowledged"))
		}
	}
}

// abandon fails the continuations of changes never written because their
// term ended. Loop-only.
func (m *Master) abandon(stale []commit) {
	for _, c := range stale {
		if c.fail != nil {
			c.fail(fmt.Errorf("leadership changed before the change was recorded"))
		}
	}
}

// fatal stops the master; Run returns err. Loop-only.
func (m *Master) fatal(err error) {
	if m.fatalErr == nil {
		m.fatalErr = err
	}
	m.cancel()
}
