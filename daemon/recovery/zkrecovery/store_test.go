package zkrecovery

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/internal/zktest"
)

func testApp(id string) api.AppInfo {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return api.AppInfo{ID: id, State: api.AppSubmitted, SubmittedAt: at,
		Spec:    api.AppSpec{Name: "n-" + id, EntryPoint: "shell", Args: "echo " + id, Cores: 1, Memory: 64},
		History: []api.StateChange{{State: api.AppSubmitted, Time: at}}}
}

func newStore(t *testing.T, root string) *Store {
	t.Helper()
	s, err := newClient(t).Store(root)
	if err != nil {
		t.Fatalf("Store(%s) = %v", root, err)
	}
	return s
}

func TestLoadEmptyTree(t *testing.T) {
	root := zktest.Chroot(t)
	snap, err := newStore(t, root).Load(testCtx(t))
	if err != nil {
		t.Fatalf("Load of a new tree = %v", err)
	}
	if len(snap.Apps)+len(snap.Workers) != 0 {
		t.Fatalf("Load of a new tree = %d apps, %d workers; want none", len(snap.Apps), len(snap.Workers))
	}
	// The state nodes removed by hand: Load recreates them, still empty.
	if err := zktestDelete(t, root+"/state"); err != nil {
		t.Fatal(err)
	}
	snap, err = newStore(t, root).Load(testCtx(t))
	if err != nil || len(snap.Apps)+len(snap.Workers) != 0 {
		t.Fatalf("Load after the state was removed = %+v, %v; want empty, nil", snap, err)
	}
}

// Ten thousand applications are committed as one batch, which needs
// several multis, and read back by a new store.
func TestTenThousandApps(t *testing.T) {
	root := zktest.Chroot(t)
	const n = 10000
	b := &recovery.Batch{}
	for i := range n {
		b.PutApp(testApp(fmt.Sprintf("app-20260102030405-%05d", i)))
	}
	s := newStore(t, root)
	start := time.Now()
	if err := s.Commit(testCtx(t), b); err != nil {
		t.Fatalf("Commit of %d apps = %v", n, err)
	}
	t.Logf("commit of %d apps: %s", n, time.Since(start).Round(time.Millisecond))

	// Timed for the report only (make bench measures, tests do not): the
	// first read meets a server whose JVM has not compiled the read path
	// yet, the second one a warm server as in production.
	s2 := newStore(t, root)
	var snap *recovery.Snapshot
	for _, when := range []string{"first", "again"} {
		start = time.Now()
		var err error
		if snap, err = s2.Load(testCtx(t)); err != nil {
			t.Fatalf("Load = %v", err)
		}
		t.Logf("load of %d apps (%s): %s", n, when, time.Since(start).Round(time.Millisecond))
	}
	if len(snap.Apps) != n {
		t.Fatalf("Load = %d apps, want %d", len(snap.Apps), n)
	}
	for _, a := range snap.Apps {
		if a.Spec.Args != "echo "+a.ID || len(a.History) != 1 {
			t.Fatalf("app did not round-trip: %+v", a)
		}
	}
}

// Another writer changed the tree behind the store's back: a put of what
// it deleted and a delete of what it created still succeed.
func TestCommitAfterAnotherWriter(t *testing.T) {
	root := zktest.Chroot(t)
	a, b := newStore(t, root), newStore(t, root)
	put := func(s *Store, ids ...string) {
		t.Helper()
		batch := &recovery.Batch{}
		for _, id := range ids {
			batch.PutApp(testApp(id))
		}
		if err := s.Commit(testCtx(t), batch); err != nil {
			t.Fatalf("Commit(put %v) = %v", ids, err)
		}
	}
	put(a, "x", "y")
	if _, err := b.Load(testCtx(t)); err != nil { // b now knows x and y
		t.Fatal(err)
	}
	del := &recovery.Batch{}
	del.DeleteApp("x")
	if err := a.Commit(testCtx(t), del); err != nil {
		t.Fatal(err)
	}
	put(a, "z")
	batch := &recovery.Batch{}
	batch.PutApp(testApp("x")) // b believes x exists: a set would fail
	batch.DeleteApp("z")       // b believes z absent: it would be kept
	batch.PutApp(testApp("y"))
	if err := b.Commit(testCtx(t), batch); err != nil {
		t.Fatalf("Commit on a stale view = %v", err)
	}
	snap, err := a.Load(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, app := range snap.Apps {
		ids = append(ids, app.ID)
	}
	if len(ids) != 2 || !strings.Contains(strings.Join(ids, ","), "x") || !strings.Contains(strings.Join(ids, ","), "y") {
		t.Fatalf("apps after both writers = %v, want x and y", ids)
	}
}

// A master whose elector holds no term must not write.
func TestStandbyCannotCommit(t *testing.T) {
	root := zktest.Chroot(t)
	c := newClient(t)
	s, err := c.Store(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Elector(root, "aloha://127.0.0.1:7001"); err != nil {
		t.Fatal(err)
	}
	b := &recovery.Batch{}
	b.PutWorker(api.WorkerInfo{ID: "w1"})
	if err := s.Commit(testCtx(t), b); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Commit by a standby = %v, want ErrNotLeader", err)
	}
}

func TestNodeNames(t *testing.T) {
	for id, want := range map[string]string{
		"app-20260102030405-0001": "app-20260102030405-0001",
		"worker-1/2":              "worker-1%2F2",
		".":                       "%2E.",
		"..":                      "%2E..",
		"":                        "%2E",
	} {
		if got := nodeName(id); got != want {
			t.Errorf("nodeName(%q) = %q, want %q", id, got, want)
		}
	}
}

// zktestDelete removes a subtree with a client of its own.
func zktestDelete(t *testing.T, p string) error {
	c := newClient(t)
	var del func(string) error
	del = func(p string) error {
		names, _, err := c.conn.Children(p)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := del(p + "/" + n); err != nil {
				return err
			}
		}
		return c.conn.Delete(p, -1)
	}
	return del(p)
}
