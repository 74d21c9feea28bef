package zkrecovery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/alohasched/aloha/daemon/recovery"
)

// Elector is the ZooKeeper elector of one master (see the package
// documentation for the recipe).
type Elector struct {
	c    *Client
	dir  string // <dir>/election
	url  string
	log  *slog.Logger
	done chan struct{} // closed by Close
	wake chan struct{} // capacity 1: "the session changed", for Campaign
	wg   sync.WaitGroup

	mu     sync.Mutex
	closed bool
	node   string   // our candidate node (full path); "" when none
	term   *term    // the term held; nil when none
	stale  []string // name prefixes of our nodes still to delete
	leader string   // URL in the lowest node, as last seen
}

// term is a term held by this elector.
type term struct {
	node string
	lost chan struct{}
	once sync.Once
}

// candidatePrefix starts every election node's name.
const candidatePrefix = "n_"

// Elector returns the elector of the master at url, candidates under
// <dir>/election. A client has one. It watches the election (for
// Leader) from now until Close.
func (c *Client) Elector(dir, url string) (*Elector, error) {
	dir, err := cleanDir(dir)
	if err != nil {
		return nil, err
	}
	if url == "" {
		return nil, errors.New("zkrecovery: elector: the master's URL is required")
	}
	e := &Elector{c: c, dir: dir + "/election", url: url, log: c.log.With("url", url),
		done: make(chan struct{}), wake: make(chan struct{}, 1)}
	if err := c.ensurePath(e.dir); err != nil {
		return nil, err
	}
	if err := c.setElector(e); err != nil {
		return nil, err
	}
	e.wg.Add(1)
	go e.observe()
	return e, nil
}

// Campaign blocks until this master leads, retrying through lost
// connections. It fails only when ctx ends, the elector is closed or
// ZooKeeper refuses us (authorization); it then withdraws the candidacy,
// so that no candidate that nobody runs can come to lead. A request in
// flight when ctx ends delays the return until it completes, at most the
// session timeout.
func (e *Elector) Campaign(ctx context.Context) (*recovery.Term, error) {
	wait := 50 * time.Millisecond // after an error; doubles up to a second
	e.mu.Lock()
	held := e.term != nil
	e.mu.Unlock()
	if held {
		return nil, errors.New("zkrecovery: campaign: this elector already holds a term")
	}
	for {
		if err := e.stopped(ctx); err != nil {
			e.withdraw()
			return nil, err
		}
		t, watch, err := e.try()
		switch {
		case err == nil && t != nil:
			return t, nil
		case err == nil && watch != nil:
			wait = 50 * time.Millisecond
			select {
			case <-watch:
			case <-e.wake:
			case <-ctx.Done():
			case <-e.done:
			}
		case err == nil: // the view changed under us: look again at once
		case permanent(err):
			e.withdraw()
			return nil, fmt.Errorf("zkrecovery: campaign: %w", err)
		default:
			e.log.Debug("campaign: retrying", "error", err.Error())
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			case <-e.done:
			}
			wait = min(2*wait, time.Second)
		}
	}
}

func (e *Elector) stopped(ctx context.Context) error {
	select {
	case <-e.done:
		return recovery.ErrClosed
	default:
	}
	if e.c.isClosed() {
		return recovery.ErrClosed
	}
	return ctx.Err()
}

// try takes one look at the election: it grants the term, or returns the
// watch on the candidate before ours.
func (e *Elector) try() (*recovery.Term, <-chan zk.Event, error) {
	gen := e.c.lossGen.Load()
	if err := e.cleanStale(); err != nil {
		return nil, nil, err
	}
	e.mu.Lock()
	node := e.node
	e.mu.Unlock()
	if node == "" {
		var err error
		if node, err = e.create(); err != nil {
			return nil, nil, err
		}
		e.mu.Lock()
		e.node = node
		e.mu.Unlock()
	}
	names, _, err := e.c.conn.Children(e.dir)
	if err != nil {
		return nil, nil, err
	}
	cands := sortCandidates(names)
	i := sort.Search(len(cands), func(i int) bool { return cands[i].seq >= seqOf(node) })
	if i == len(cands) || e.dir+"/"+cands[i].name != node {
		// Our node is gone: the session expired, or someone deleted it.
		e.mu.Lock()
		if e.node == node {
			e.node = ""
		}
		e.mu.Unlock()
		return nil, nil, nil
	}
	if i > 0 {
		_, _, watch, err := e.c.conn.GetW(e.dir + "/" + cands[i-1].name)
		if errors.Is(err, zk.ErrNoNode) {
			return nil, nil, nil // it left meanwhile
		}
		return nil, watch, err
	}
	epoch, err := e.nextEpoch(node)
	if err != nil {
		return nil, nil, err
	}
	return e.grant(node, gen, epoch), nil, nil
}

// nextEpoch records and returns the epoch of the term node is about to
// hold: above the last one recorded in <dir>/epoch, above node's sequence
// number, and at least the clock in milliseconds. The clock keeps epochs
// above those of a master that ran without recovery (mode NONE numbers
// terms by the clock) and above those of an election directory that was
// deleted and recreated, whose sequence numbers start again; workers that
// saw such epochs would otherwise refuse every order. The write is fenced
// on node, so only the winner records.
func (e *Elector) nextEpoch(node string) (uint64, error) {
	path := strings.TrimSuffix(e.dir, "/election") + "/epoch"
	var last uint64
	version := int32(-1)
	data, stat, err := e.c.conn.Get(path)
	switch {
	case errors.Is(err, zk.ErrNoNode):
	case err != nil:
		return 0, err
	default:
		if last, err = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64); err != nil {
			return 0, fmt.Errorf("zkrecovery: the epoch in %s is damaged: %w", path, err)
		}
		version = stat.Version
	}
	next := max(last+1, uint64(seqOf(node))+1, uint64(time.Now().UnixMilli()))
	value := []byte(strconv.FormatUint(next, 10))
	ops := []any{&zk.CheckVersionRequest{Path: node, Version: -1}}
	if version < 0 {
		ops = append(ops, &zk.CreateRequest{Path: path, Data: value, Acl: zk.WorldACL(zk.PermAll)})
	} else {
		ops = append(ops, &zk.SetDataRequest{Path: path, Data: value, Version: version})
	}
	if _, err := e.c.conn.Multi(ops...); err != nil {
		return 0, fmt.Errorf("zkrecovery: recording epoch %d: %w", next, err)
	}
	return next, nil
}

// grant makes node's term ours, unless the session was lost since the
// look that found node lowest began: the callback that reports a loss
// takes e.mu too, so it either sees the term and ends it, or stops the
// grant here.
func (e *Elector) grant(node string, gen, epoch uint64) *recovery.Term {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.node != node || e.c.lossGen.Load() != gen || e.c.conn.State() != zk.StateHasSession {
		return nil
	}
	t := &term{node: node, lost: make(chan struct{})}
	e.term = t
	e.leader = e.url
	e.c.setFence(node)
	e.wg.Add(1)
	go e.watchTerm(t)
	e.log.Info("won the ZooKeeper election", "node", node, "epoch", epoch)
	return &recovery.Term{Epoch: epoch, Lost: t.lost, Resign: func() { e.lose(t, "resigned") }}
}

// create adds our candidate node. If the reply is lost with the
// connection, the node may exist all the same: look for it by its unique
// prefix, and if it cannot be found now, leave the prefix to cleanStale.
func (e *Elector) create() (string, error) {
	var r [8]byte
	rand.Read(r[:])
	prefix := candidatePrefix + hex.EncodeToString(r[:]) + "_"
	node, err := e.c.conn.Create(e.dir+"/"+prefix, []byte(e.url), zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
	switch {
	case err == nil:
		return node, nil
	case errors.Is(err, zk.ErrNoNode): // the election directory was removed
		if err := e.c.ensurePath(e.dir); err != nil {
			return "", err
		}
		return "", fmt.Errorf("recreated %s: %w", e.dir, err)
	case errors.Is(err, zk.ErrConnectionClosed):
		names, _, lerr := e.c.conn.Children(e.dir)
		if lerr == nil {
			for _, n := range names {
				if strings.HasPrefix(n, prefix) {
					return e.dir + "/" + n, nil
				}
			}
			return "", err
		}
		e.mu.Lock()
		e.stale = append(e.stale, prefix)
		e.mu.Unlock()
	}
	return "", err
}

// lose ends t: the store stops writing under it, then Lost is closed, and
// its node is deleted (now if connected, else once the session is back).
func (e *Elector) lose(t *term, why string) {
	e.mu.Lock()
	if e.term == t {
		e.term = nil
		e.c.clearFence(t.node)
		if e.leader == e.url {
			e.leader = "" // unknown until the next leader's node is seen
		}
		level := slog.LevelWarn
		if why == "resigned" || why == "closed" {
			level = slog.LevelInfo
		}
		e.log.Log(context.Background(), level, "ZooKeeper leadership ended", "node", t.node, "reason", why)
	}
	t.once.Do(func() { close(t.lost) })
	if e.node == t.node {
		e.node = ""
		e.stale = append(e.stale, baseName(t.node))
	}
	e.mu.Unlock()
	e.cleanLater()
}

// sessionLost is the client's report of a disconnection or expiry.
func (e *Elector) sessionLost(state zk.State) {
	e.mu.Lock()
	t := e.term
	e.mu.Unlock()
	if t != nil {
		e.lose(t, "ZooKeeper "+state.String())
	}
	e.poke()
}

// sessionBack is the client's report of a session (re)established.
func (e *Elector) sessionBack() {
	e.cleanLater()
	e.poke()
}

func (e *Elector) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// cleanLater deletes stale nodes on a goroutine of its own: it is called
// from the master's loop (Resign) and the client's event callback, where
// no request may wait.
func (e *Elector) cleanLater() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || len(e.stale) == 0 {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.cleanStale(); err != nil {
			e.log.Debug("old election nodes not deleted yet", "error", err.Error())
		}
	}()
}

// cleanStale deletes our nodes that must not stand in the election any
// more. Prefixes whose deletion fails are kept for the next attempt.
func (e *Elector) cleanStale() error {
	e.mu.Lock()
	prefixes := e.stale
	e.stale = nil
	e.mu.Unlock()
	if len(prefixes) == 0 {
		return nil
	}
	names, _, err := e.c.conn.Children(e.dir)
	for _, n := range names {
		if err != nil {
			break
		}
		for _, p := range prefixes {
			if strings.HasPrefix(n, p) {
				if derr := e.c.conn.Delete(e.dir+"/"+n, -1); derr != nil && !errors.Is(derr, zk.ErrNoNode) {
					err = derr
				}
			}
		}
	}
	if err != nil {
		e.mu.Lock()
		e.stale = append(e.stale, prefixes...)
		e.mu.Unlock()
	}
	return err
}

// withdraw gives up the candidacy of a Campaign that failed.
func (e *Elector) withdraw() {
	e.mu.Lock()
	if e.node != "" && e.term == nil {
		e.stale = append(e.stale, baseName(e.node))
		e.node = ""
	}
	e.mu.Unlock()
	e.cleanLater()
}

// watchTerm ends t if its node disappears while the session lives (an
// operator deleted it): the next candidate leads then.
func (e *Elector) watchTerm(t *term) {
	defer e.wg.Done()
	for {
		_, _, watch, err := e.c.conn.GetW(t.node)
		if errors.Is(err, zk.ErrNoNode) {
			e.lose(t, "election node deleted")
			return
		}
		var retry <-chan time.Time
		if err != nil { // the session callback ends the term if it must
			watch, retry = nil, time.After(time.Second)
		}
		select {
		case ev := <-watch:
			if ev.Type == zk.EventNodeDeleted {
				e.lose(t, "election node deleted")
				return
			}
		case <-retry:
		case <-t.lost:
			return
		}
	}
}

// Close resigns the term held and withdraws the candidacy, deleting our
// node before it returns (unless ZooKeeper cannot be reached; the session
// ends with the Client then), and stops watching. It does not close the
// Client, whose store keeps refusing commits.
func (e *Elector) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	t := e.term
	e.mu.Unlock()
	if t != nil {
		e.lose(t, "closed")
	}
	e.mu.Lock()
	e.closed = true
	close(e.done)
	if e.node != "" {
		e.stale = append(e.stale, baseName(e.node))
		e.node = ""
	}
	e.mu.Unlock()
	if !e.c.isClosed() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		call(ctx, func() (struct{}, error) { return struct{}{}, e.cleanStale() })
		cancel()
	}
	e.wg.Wait()
	return nil
}
