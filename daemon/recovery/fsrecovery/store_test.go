package fsrecovery

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/recovery"
	"github.com/alohasched/aloha/daemon/recovery/recoverytest"
)

func TestStoreConformance(t *testing.T) {
	dirs := map[*testing.T]string{}
	recoverytest.RunStoreTests(t, func(t *testing.T) recovery.Store {
		dir, ok := dirs[t]
		if !ok {
			dir = t.TempDir()
			dirs[t] = dir
		}
		s, _ := openStore(t, dir, StoreOptions{})
		return s
	})
}

// The conformance suite again, with a snapshot after every Commit.
func TestStoreConformanceCompactingAlways(t *testing.T) {
	dirs := map[*testing.T]string{}
	recoverytest.RunStoreTests(t, func(t *testing.T) recovery.Store {
		dir, ok := dirs[t]
		if !ok {
			dir = t.TempDir()
			dirs[t] = dir
		}
		s, _ := openStore(t, dir, StoreOptions{CompactBytes: 1})
		return s
	})
}

// The package comment promises that a record is a frame around
// msgpack(recovery.Batch): tools may decode it as such.
func TestRecordIsAFramedBatch(t *testing.T) {
	dir := t.TempDir()
	s, _ := openStore(t, dir, StoreOptions{})
	want := putApps("app-1", "app-2")
	want.DeleteApp("app-0")
	want.PutWorker(api.WorkerInfo{ID: "w1", Host: "h", Port: 1, Addr: "h:1", State: api.WorkerAlive, Cores: 2, Memory: 10})
	want.DeleteWorker("w0")
	commit(t, s, want)
	data, err := os.ReadFile(onlySegment(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	payload, next, err := readFrame(data, 0)
	if err != nil || next != len(data) {
		t.Fatalf("readFrame = %d, %v; want one record of %d bytes", next, err, len(data))
	}
	var got recovery.Batch
	if err := msgpack.Unmarshal(payload, &got); err != nil {
		t.Fatalf("decoding the record as a Batch: %v", err)
	}
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("record (-committed +decoded):\n%s", diff)
	}
}

// tornFixture commits three records and returns the directory, its only
// segment and where the last record starts.
func tornFixture(t *testing.T) (dir, seg string, lastAt int64) {
	dir = t.TempDir()
	s, _ := openStore(t, dir, StoreOptions{})
	commit(t, s, putApps("app-1"))
	commit(t, s, putApps("app-2"))
	seg = onlySegment(t, dir)
	lastAt = fileSize(t, seg)
	commit(t, s, putApps("app-3"))
	s.Close()
	return dir, seg, lastAt
}

// loadTorn loads dir and checks that it holds app-1 and app-2 only, with
// exactly one warning, naming the segment and the offset of the bad
// record.
func loadTorn(t *testing.T, dir, seg string, at int64) *Store {
	t.Helper()
	s, sink := openStore(t, dir, StoreOptions{})
	if got, want := loadIDs(t, s), []string{"app-1", "app-2"}; !slices.Equal(got, want) {
		t.Fatalf("Load = %v, want %v", got, want)
	}
	w := sink.warnings()
	if len(w) != 1 || !contains(w[0], filepath.Base(seg)) || !contains(w[0], "offset="+itoa(at)) {
		t.Fatalf("warnings = %q, want one naming %s and offset %d", w, filepath.Base(seg), at)
	}
	if size := fileSize(t, seg); size != at {
		t.Fatalf("after Load, %s holds %d bytes, want the torn tail cut at %d", filepath.Base(seg), size, at)
	}
	return s
}

func TestTornLastRecordAtEveryOffset(t *testing.T) {
	src, srcSeg, lastAt := tornFixture(t)
	end := fileSize(t, srcSeg)
	for cut := lastAt + 1; cut < end; cut++ {
		dir := copyDir(t, src)
		seg := filepath.Join(dir, filepath.Base(srcSeg))
		if err := os.Truncate(seg, cut); err != nil {
			t.Fatal(err)
		}
		s := loadTorn(t, dir, seg, lastAt)
		if cut%16 == 0 { // appending after the cut is clean; a sample suffices
			commit(t, s, putApps("app-4"))
			s.Close()
			s2, sink := openStore(t, dir, StoreOptions{})
			if got, want := loadIDs(t, s2), []string{"app-1", "app-2", "app-4"}; !slices.Equal(got, want) || len(sink.warnings()) != 0 {
				t.Fatalf("cut at %d, then a Commit: Load = %v with warnings %q, want %v and none", cut, got, sink.warnings(), want)
			}
		}
	}
	// Cut exactly between records: nothing is torn.
	dir := copyDir(t, src)
	os.Truncate(filepath.Join(dir, filepath.Base(srcSeg)), lastAt)
	s, sink := openStore(t, dir, StoreOptions{})
	if got := loadIDs(t, s); len(got) != 2 || len(sink.warnings()) != 0 {
		t.Fatalf("cut between records: Load = %v, warnings %q", got, sink.warnings())
	}
}

func TestGarbageAfterLastRecord(t *testing.T) {
	src, srcSeg, _ := tornFixture(t)
	end := fileSize(t, srcSeg)
	garbage := map[string][]byte{
		"zeros":        make([]byte, 4096),
		"one byte":     {0x42},
		"random":       pseudoRandom(1, 64<<10),
		"huge length":  {0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 0x80},
		"bad checksum": {0, 0, 0, 1, 1, 2, 3, 4, 0x80},
	}
	for name, g := range garbage {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, src)
			seg := filepath.Join(dir, filepath.Base(srcSeg))
			appendFile(t, seg, g)
			s, sink := openStore(t, dir, StoreOptions{})
			if got := loadIDs(t, s); len(got) != 3 {
				t.Fatalf("Load = %v, want the 3 committed apps", got)
			}
			if w := sink.warnings(); len(w) != 1 || !contains(w[0], "offset="+itoa(end)) {
				t.Fatalf("warnings = %q, want one at offset %d", w, end)
			}
		})
	}
}

// A bad record with a valid one after it is damage to acknowledged data,
// not a torn write, even in the last segment.
func TestCorruptRecordInTheMiddleFails(t *testing.T) {
	t.Run("last segment", func(t *testing.T) {
		dir, seg, _ := tornFixture(t)
		flipByte(t, seg, frameHeader+3) // in the first record's payload
		s, _ := openStore(t, dir, StoreOptions{})
		_, err := s.Load(testCtx(t))
		if err == nil || !contains(err.Error(), filepath.Base(seg)) || !contains(err.Error(), "offset 0") {
			t.Fatalf("Load = %v, want an error naming %s at offset 0", err, filepath.Base(seg))
		}
	})
	t.Run("earlier segment", func(t *testing.T) {
		dir := t.TempDir()
		s, _ := openStore(t, dir, StoreOptions{})
		commit(t, s, putApps("app-1"))
		commit(t, s, putApps("app-2"))
		commit(t, s, putApps("app-3"))
		first := onlySegment(t, dir)
		s.Close()
		s, _ = openStore(t, dir, StoreOptions{}) // a new writer: a new segment
		commit(t, s, putApps("app-4"))
		s.Close()
		second := fileSize(t, first) / 3 // inside the second record
		flipByte(t, first, second+frameHeader+5)
		s, _ = openStore(t, dir, StoreOptions{})
		_, err := s.Load(testCtx(t))
		if err == nil || !contains(err.Error(), filepath.Base(first)) {
			t.Fatalf("Load = %v, want an error naming %s", err, filepath.Base(first))
		}
		// Even a torn tail is an error in a segment that is not the last.
		flipByte(t, first, second+frameHeader+5)
		os.Truncate(first, fileSize(t, first)-1)
		if _, err := s.Load(testCtx(t)); err == nil || !contains(err.Error(), filepath.Base(first)) {
			t.Fatalf("Load = %v, want an error naming %s", err, filepath.Base(first))
		}
	})
	t.Run("snapshot", func(t *testing.T) {
		dir := t.TempDir()
		s, _ := openStore(t, dir, StoreOptions{CompactBytes: 1})
		commit(t, s, putApps("app-1"))
		s.Close()
		l, _ := listDir(dir)
		if len(l.snapshots) != 1 {
			t.Fatalf("files = %v, want one snapshot", files(t, dir))
		}
		snap := filepath.Join(dir, snapshotName(l.snapshots[0]))
		flipByte(t, snap, fileSize(t, snap)-1)
		s, _ = openStore(t, dir, StoreOptions{})
		if _, err := s.Load(testCtx(t)); err == nil || !contains(err.Error(), filepath.Base(snap)) {
			t.Fatalf("Load = %v, want an error naming %s", err, filepath.Base(snap))
		}
	})
}

func TestLeftoverTempFilesAreSkipped(t *testing.T) {
	dir, _, _ := tornFixture(t)
	leftover := snapshotName(99) + tmpSuffix
	os.WriteFile(filepath.Join(dir, leftover), []byte("half a snapshot"), 0o644)
	// The elector's temporaries are not the store's to remove.
	os.WriteFile(filepath.Join(dir, epochName+tmpSuffix), []byte("7"), 0o644)
	s, sink := openStore(t, dir, StoreOptions{})
	if got := loadIDs(t, s); len(got) != 3 {
		t.Fatalf("Load = %v, want 3 apps", got)
	}
	if w := sink.warnings(); len(w) != 1 || !contains(w[0], leftover) {
		t.Fatalf("warnings = %q, want one naming %s", w, leftover)
	}
	names := files(t, dir)
	if slices.Contains(names, leftover) || !slices.Contains(names, epochName+tmpSuffix) {
		t.Fatalf("files after Load = %v, want %s removed and %s kept", names, leftover, epochName+tmpSuffix)
	}
	// The next file is numbered above the leftover, whose number may
	// have been taken by a snapshot that did not survive.
	commit(t, s, putApps("app-5"))
	if l, _ := listDir(dir); l.maxSeq <= 99 {
		t.Fatalf("files = %v, want a segment numbered above 99", files(t, dir))
	}
}

// A crash after a snapshot is durable but before the segments it covers
// are removed: they must not be replayed over the newer snapshot.
func TestCrashBeforeObsoleteFilesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	s, _ := openStore(t, dir, StoreOptions{})
	commit(t, s, putApps("app-a", "app-b", "app-c"))
	old := copyDir(t, dir) // the segment before compaction
	s.Close()

	s, _ = openStore(t, dir, StoreOptions{CompactBytes: 1})
	b := &recovery.Batch{}
	b.DeleteApp("app-a")
	b.PutApp(testApp("app-b", api.AppRunning))
	commit(t, s, b) // compacts: a snapshot, the old segment removed
	s.Close()
	s, _ = openStore(t, dir, StoreOptions{})
	b = &recovery.Batch{}
	b.PutApp(testApp("app-c", api.AppFinished))
	commit(t, s, b)
	s.Close()

	for _, name := range files(t, old) { // as if the crash kept them
		data, _ := os.ReadFile(filepath.Join(old, name))
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	s, _ = openStore(t, dir, StoreOptions{})
	snap, err := s.Load(testCtx(t))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	got := map[string]api.AppState{}
	for _, a := range snap.Apps {
		got[a.ID] = a.State
	}
	want := map[string]api.AppState{"app-b": api.AppRunning, "app-c": api.AppFinished}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("states after Load (-want +got):\n%s", diff)
	}
	for _, name := range files(t, old) {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("obsolete %s still there after Load: %v", name, err)
		}
	}
}

func TestCompactionKeepsOneSnapshotAndFewSegments(t *testing.T) {
	dir := t.TempDir()
	s, _ := openStore(t, dir, StoreOptions{CompactBytes: 4 << 10})
	ids := appIDs(400)
	for i, id := range ids {
		b := putApps(id)
		if i >= 10 {
			b.DeleteApp(ids[i-10])
		}
		commit(t, s, b)
	}
	l, _ := listDir(dir)
	if len(l.snapshots) != 1 || len(l.segments) > 1 || l.maxSeq < 10 {
		t.Fatalf("files after 400 commits = %v, want compactions to leave one snapshot and at most one segment", files(t, dir))
	}
	s.Close()
	s, _ = openStore(t, dir, StoreOptions{})
	if got, want := loadIDs(t, s), ids[390:]; !slices.Equal(got, want) {
		t.Fatalf("Load = %v, want %v", got, want)
	}
}

func TestClosedStoreRefusesLoad(t *testing.T) {
	s, _ := openStore(t, t.TempDir(), StoreOptions{})
	s.Close()
	if _, err := s.Load(testCtx(t)); !errors.Is(err, recovery.ErrClosed) {
		t.Fatalf("Load on a closed store = %v, want ErrClosed", err)
	}
}
