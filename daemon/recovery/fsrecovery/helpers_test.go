package fsrecovery

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
)

// The test binary doubles as a child process that the crash tests kill
// with SIGKILL: a store writing in a loop, or a leader holding the lock.
const (
	childEnv    = "FSRECOVERY_TEST_CHILD" // "store" or "leader"
	childDirEnv = "FSRECOVERY_TEST_DIR"
	childURLEnv = "FSRECOVERY_TEST_URL"
)

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "store":
		os.Exit(storeChild(os.Getenv(childDirEnv)))
	case "leader":
		os.Exit(leaderChild(os.Getenv(childDirEnv), os.Getenv(childURLEnv)))
	}
	goleak.VerifyTestMain(m)
}

// testTimeout bounds every wait; conditions are polled, not slept on.
const testTimeout = 10 * time.Second

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// logSink records what a store or elector logs, so tests can check the
// warnings.
type logSink struct {
	mu      sync.Mutex
	records []string // "LEVEL msg k=v ..."
}

func newLog() (*slog.Logger, *logSink) {
	s := &logSink{}
	return slog.New(s), s
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *logSink) WithGroup(string) slog.Handler            { return s }

func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return true
	})
	s.mu.Lock()
	s.records = append(s.records, line)
	s.mu.Unlock()
	return nil
}

// warnings returns the lines logged at WARN or above.
func (s *logSink) warnings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.records {
		if strings.HasPrefix(l, "WARN") || strings.HasPrefix(l, "ERROR") {
			out = append(out, l)
		}
	}
	return out
}

func openStore(t testing.TB, dir string, opts StoreOptions) (*Store, *logSink) {
	t.Helper()
	log, sink := newLog()
	s, err := OpenStoreWith(dir, log, opts)
	if err != nil {
		t.Fatalf("OpenStoreWith(%s) = %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s, sink
}

func newElector(t testing.TB, dir, url string, poll time.Duration) *Elector {
	t.Helper()
	log, _ := newLog()
	e, err := NewElector(dir, url, log, ElectorOptions{PollInterval: poll})
	if err != nil {
		t.Fatalf("NewElector(%s) = %v", dir, err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func testApp(id string, state api.AppState) api.AppInfo {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return api.AppInfo{ID: id, State: state, SubmittedAt: at,
		Spec:    api.AppSpec{Name: "n-" + id, EntryPoint: "shell", Args: "echo " + id, Cores: 1, Memory: 64},
		History: []api.StateChange{{State: state, Time: at}}}
}

func putApps(ids ...string) *recovery.Batch {
	b := &recovery.Batch{}
	for _, id := range ids {
		b.PutApp(testApp(id, api.AppSubmitted))
	}
	return b
}

func commit(t testing.TB, s *Store, b *recovery.Batch) {
	t.Helper()
	if err := s.Commit(testCtx(t), b); err != nil {
		t.Fatalf("Commit = %v", err)
	}
}

// loadIDs loads the store and returns its application ids in order.
func loadIDs(t testing.TB, s *Store) []string {
	t.Helper()
	snap, err := s.Load(testCtx(t))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	ids := []string{}
	for _, a := range snap.Apps {
		ids = append(ids, a.ID)
	}
	return ids
}

// files lists the names in dir.
func files(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// copyDir copies the regular files of src into a new directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	for _, name := range files(t, src) {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// onlySegment returns the path of the one log segment in dir.
func onlySegment(t testing.TB, dir string) string {
	t.Helper()
	l, err := listDir(dir)
	if err != nil || len(l.segments) != 1 {
		t.Fatalf("listDir(%s) = %+v, %v; want one segment", dir, l, err)
	}
	return filepath.Join(dir, walName(l.segments[0]))
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func appIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("app-20260102030405-%04d", i)
	}
	return ids
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func itoa(n int64) string { return fmt.Sprint(n) }

// pseudoRandom returns n reproducible bytes that look like noise.
func pseudoRandom(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func appendFile(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
}

// flipByte inverts the byte at off; flipping it again restores it.
func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[off] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
