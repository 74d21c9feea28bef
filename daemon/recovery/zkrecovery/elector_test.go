package zkrecovery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/internal/testutil"
	"github.com/alohasched/aloha/internal/zktest"
)

// campaign runs e.Campaign on a goroutine; the term arrives on the
// channel, or the test fails on an error.
func campaign(t *testing.T, e *Elector) <-chan *recovery.Term {
	won := make(chan *recovery.Term, 1)
	errs := make(chan error, 1)
	go func() {
		term, err := e.Campaign(testCtx(t))
		if err != nil {
			errs <- err
			return
		}
		won <- term
	}()
	t.Cleanup(func() {
		select {
		case err := <-errs:
			t.Errorf("Campaign = %v", err)
		default:
		}
	})
	return won
}

func waitTerm(t *testing.T, won <-chan *recovery.Term, within time.Duration, what string) *recovery.Term {
	t.Helper()
	select {
	case term := <-won:
		return term
	case <-time.After(within):
		t.Fatalf("%s: no term within %s", what, within)
		return nil
	}
}

func waitLost(t *testing.T, term *recovery.Term, within time.Duration, what string) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-term.Lost:
		return time.Since(start)
	case <-time.After(within):
		t.Fatalf("%s: Lost not closed within %s", what, within)
		return 0
	}
}

func waitLeader(t *testing.T, e *Elector, want string) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if got := e.Leader(); got != want {
			return fmt.Errorf("Leader() = %q, want %q", got, want)
		}
		return nil
	})
}

func newElector(t *testing.T, c *Client, root, url string) *Elector {
	t.Helper()
	e, err := c.Elector(root, url)
	if err != nil {
		t.Fatalf("Elector(%s, %s) = %v", root, url, err)
	}
	return e
}

const urlA, urlB = "aloha://127.0.0.1:7001", "aloha://127.0.0.1:7002"

func TestStandbyLearnsLeader(t *testing.T) {
	root := zktest.Chroot(t)
	a := newElector(t, newClient(t), root, urlA)
	watcher := newElector(t, newClient(t), root, urlB) // never campaigns
	if got := watcher.Leader(); got != "" {
		t.Fatalf("Leader() before any candidate = %q, want \"\"", got)
	}
	ta := waitTerm(t, campaign(t, a), 10*time.Second, "sole candidate")
	waitLeader(t, watcher, urlA)
	ta.Resign()
	waitLeader(t, watcher, "") // nobody leads now
	if got := a.Leader(); got != "" && got != urlA {
		t.Fatalf("Leader() of the resigned master = %q", got)
	}
}

// A leader's session is expired by the server (the way ZooKeeper's own
// tests do it: a second connection with the same session id and
// password closes the session): Lost closes at once, the standby leads
// with a later epoch, the old leader cannot write, and it campaigns again
// with a fresh node.
func TestSessionExpiryEndsTerm(t *testing.T) {
	root := zktest.Chroot(t)
	var sess sessionSniffer
	ca := newClientDial(t, sess.dial)
	a, b := newElector(t, ca, root, urlA), newElector(t, newClient(t), root, urlB)
	sa, err := ca.Store(root)
	if err != nil {
		t.Fatal(err)
	}
	ta := waitTerm(t, campaign(t, a), 10*time.Second, "first candidate")
	wonB := campaign(t, b)
	waitLeader(t, b, urlA)

	id, passwd := sess.get()
	start := time.Now()
	expireSession(t, zktest.Server(t), id, passwd)
	waitLost(t, ta, 5*time.Second, "after the session was closed")
	t.Logf("Lost closed %s after the session was closed", time.Since(start).Round(time.Millisecond))
	tb := waitTerm(t, wonB, 10*time.Second, "standby after the leader's session expired")
	if tb.Epoch <= ta.Epoch {
		t.Fatalf("standby's epoch %d not above the expired leader's %d", tb.Epoch, ta.Epoch)
	}

	batch := &recovery.Batch{}
	batch.PutWorker(api.WorkerInfo{ID: "late"})
	if err := sa.Commit(testCtx(t), batch); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Commit by the expired leader = %v, want ErrNotLeader", err)
	}

	// The old leader, on its new session, queues behind b and leads
	// once b resigns, with a node (and an epoch) of its own.
	wonA := campaign(t, a)
	waitLeader(t, a, urlB)
	tb.Resign()
	ta2 := waitTerm(t, wonA, 10*time.Second, "old leader after the new one resigned")
	if ta2.Epoch <= tb.Epoch {
		t.Fatalf("epoch %d of the third term not above %d", ta2.Epoch, tb.Epoch)
	}
	if err := sa.Commit(testCtx(t), batch); err != nil {
		t.Fatalf("Commit in the new term = %v", err)
	}
}

// A leader whose connection drops steps down at once, though its session
// lives on: it cannot know that it does. Back on the same session, it
// deletes its old node, so the standby leads without waiting for the
// session to expire, and its next campaign stands with a fresh node.
func TestDisconnectedLeaderStepsDown(t *testing.T) {
	root := zktest.Chroot(t)
	var cut cutter
	// A longer session than usual, which the second the client waits
	// before it dials again cannot come near, even on a loaded machine.
	ca, err := connect([]string{zktest.Server(t)}, 2*testSession, testLog(t), cut.dial)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ca.Close)
	a, b := newElector(t, ca, root, urlA), newElector(t, newClient(t), root, urlB)
	ta := waitTerm(t, campaign(t, a), 10*time.Second, "first candidate")
	wonB := campaign(t, b)
	waitLeader(t, b, urlA)
	session := ca.conn.SessionID()

	cut.cut()
	lostAfter := waitLost(t, ta, 5*time.Second, "after the connection was cut")
	t.Logf("Lost closed %s after the connection was cut", lostAfter.Round(time.Millisecond))
	start := time.Now()
	// The client waits a second before it dials its only server again.
	tb := waitTerm(t, wonB, 10*time.Second, "standby after the leader's connection was cut")
	t.Logf("standby led %s after the cut", time.Since(start).Round(time.Millisecond))
	if ca.conn.SessionID() != session {
		t.Fatalf("session changed from %#x to %#x: it expired, the test proves nothing", session, ca.conn.SessionID())
	}
	if tb.Epoch <= ta.Epoch {
		t.Fatalf("standby's epoch %d not above %d", tb.Epoch, ta.Epoch)
	}
	wonA := campaign(t, a)
	waitCandidates(t, ca, root, 2)
	tb.Resign()
	if ta2 := waitTerm(t, wonA, 10*time.Second, "old leader again"); ta2.Epoch <= tb.Epoch {
		t.Fatalf("epoch %d of the old leader's new term not above %d", ta2.Epoch, tb.Epoch)
	}
}

// cutter is a dialer whose connections the test can drop all at once.
type cutter struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (c *cutter) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	conn, err := net.DialTimeout(network, addr, timeout)
	if err == nil {
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
	}
	return conn, err
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

// The fence itself: a write prepared under a term whose node is gone
// fails as a whole, even if the client has not yet heard of the loss.
func TestDeposedLeaderCommitFails(t *testing.T) {
	root := zktest.Chroot(t)
	c := newClient(t)
	s, err := c.Store(root)
	if err != nil {
		t.Fatal(err)
	}
	e := newElector(t, c, root, urlA)
	term := waitTerm(t, campaign(t, e), 10*time.Second, "sole candidate")
	fence := c.currentFence()
	if fence == "" {
		t.Fatal("no fence while leading")
	}
	// Another client removes the node, as the server does when the
	// session expires; s writes with the fence it read before.
	other := newClient(t)
	if err := other.conn.Delete(fence, -1); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	err = s.write(fence, []op{{path: s.workers + "/w1", data: []byte{0x80}}})
	s.mu.Unlock()
	if !errors.Is(err, ErrNotLeader) {
		t.Fatalf("fenced write after the node was deleted = %v, want ErrNotLeader", err)
	}
	if ok, _, err := other.conn.Exists(s.workers + "/w1"); err != nil || ok {
		t.Fatalf("the deposed write was applied (exists=%v, err=%v)", ok, err)
	}
	// The elector notices the deletion itself, too.
	waitLost(t, term, 10*time.Second, "after the election node was deleted")
}

// sessionSniffer reads the session id and password out of the server's
// reply to the connect request, the first frame on every connection: the
// ZooKeeper client keeps them private.
type sessionSniffer struct {
	mu     sync.Mutex
	id     int64
	passwd []byte
}

func (s *sessionSniffer) get() (int64, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id, s.passwd
}

func (s *sessionSniffer) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout(network, addr, timeout)
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, s: s}, nil
}

type sniffConn struct {
	net.Conn
	s    *sessionSniffer
	buf  []byte // the first frame as far as read; nil once parsed
	done bool
}

// Read is called by one goroutine at a time (authenticate, then the
// receive loop), so the buffer needs no lock.
func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.done {
		c.buf = append(c.buf, p[:n]...)
		// connect reply: length, protocol version, timeout, session id,
		// password (length-prefixed)
		if len(c.buf) >= 4 && len(c.buf) >= 4+int(binary.BigEndian.Uint32(c.buf)) {
			f := c.buf[4:]
			if len(f) >= 20 {
				id := int64(binary.BigEndian.Uint64(f[8:]))
				pl := int(binary.BigEndian.Uint32(f[16:]))
				if id != 0 && len(f) >= 20+pl {
					c.s.mu.Lock()
					c.s.id, c.s.passwd = id, append([]byte(nil), f[20:20+pl]...)
					c.s.mu.Unlock()
				}
			}
			c.done, c.buf = true, nil
		}
	}
	return n, err
}

// expireSession attaches to session id on a raw connection and closes it,
// which ends the session on the server: its ephemeral nodes go, and its
// owner finds it expired when it reconnects.
func expireSession(t *testing.T, addr string, id int64, passwd []byte) {
	t.Helper()
	if id == 0 {
		t.Fatal("no session id seen")
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// connect: protocol version, last zxid seen, timeout ms, session id,
	// password
	req := binary.BigEndian.AppendUint32(nil, 0)
	req = binary.BigEndian.AppendUint64(req, 0)
	req = binary.BigEndian.AppendUint32(req, uint32(testSession.Milliseconds()))
	req = binary.BigEndian.AppendUint64(req, uint64(id))
	req = binary.BigEndian.AppendUint32(req, uint32(len(passwd)))
	req = append(req, passwd...)
	reply := roundTrip(t, c, req)
	if len(reply) < 16 || int64(binary.BigEndian.Uint64(reply[8:])) != id {
		t.Fatalf("the server did not reattach session %#x (reply %x)", id, reply)
	}
	// closeSession: xid 1, op -11
	req = binary.BigEndian.AppendUint32(nil, 1)
	req = binary.BigEndian.AppendUint32(req, uint32(0xFFFFFFF5))
	reply = roundTrip(t, c, req)
	if len(reply) < 16 || binary.BigEndian.Uint32(reply[12:]) != 0 {
		t.Fatalf("closeSession reply %x", reply)
	}
}

func roundTrip(t *testing.T, c net.Conn, body []byte) []byte {
	t.Helper()
	if _, err := c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)); err != nil {
		t.Fatal(err)
	}
	var n [4]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, binary.BigEndian.Uint32(n[:]))
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatal(err)
	}
	return reply
}
