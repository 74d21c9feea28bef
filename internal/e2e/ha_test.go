package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/client"
	"github.com/alohasched/aloha/internal/testutil"
	"github.com/alohasched/aloha/internal/zktest"
)

// haMode returns the -D flags of a recovery mode for this test.
func haMode(t *testing.T, mode string) []string {
	t.Helper()
	switch mode {
	case "FILESYSTEM":
		return []string{"-Daloha.deploy.recoveryMode=FILESYSTEM", "-Daloha.deploy.recoveryDirectory=" + filepath.Join(t.TempDir(), "recovery")}
	case "ZOOKEEPER":
		return []string{"-Daloha.deploy.recoveryMode=ZOOKEEPER", "-Daloha.deploy.zookeeper.url=" + zktest.Server(t),
			"-Daloha.deploy.zookeeper.dir=" + zktest.Chroot(t), "-Daloha.deploy.zookeeper.sessionTimeout=2s"}
	}
	t.Fatalf("unknown mode %s", mode)
	return nil
}

// haCluster is masters sharing a recovery mode, and workers that know
// them all.
type haCluster struct {
	t       *testing.T
	dir     string
	flags   []string
	masters []*proc
	urls    []string
}

func startHA(t *testing.T, mode string, masters int, extra ...string) *haCluster {
	t.Helper()
	h := &haCluster{t: t, dir: t.TempDir(), flags: append(haMode(t, mode), extra...)}
	for range masters {
		h.addMaster()
	}
	return h
}

func (h *haCluster) addMaster() *proc {
	m, url, _ := startMaster(h.t, h.dir, h.flags...)
	h.masters = append(h.masters, m)
	h.urls = append(h.urls, url)
	return m
}

func (h *haCluster) masterList() string { return strings.Join(h.urls, ",") }

func (h *haCluster) client() *client.Client {
	c, err := client.New(client.Config{Masters: h.urls})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

// leader waits for a leader to be ALIVE and returns its index.
func (h *haCluster) leader() int {
	h.t.Helper()
	var idx int
	testutil.WaitFor(h.t, 60*time.Second, func() error {
		c, err := client.New(client.Config{Masters: h.urls})
		if err != nil {
			return err
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		info, err := c.MasterInfo(ctx)
		if err != nil {
			return err
		}
		if info.State != api.MasterAlive {
			return fmt.Errorf("leader %s is %s", info.URL, info.State)
		}
		for i, u := range h.urls {
			if u == info.URL {
				idx = i
				return nil
			}
		}
		return fmt.Errorf("leader %s is not one of %v", info.URL, h.urls)
	})
	return idx
}

// DESIGN §5 and the HA promise: a kill -9 of the leader during a burst of
// submissions loses no acknowledged application and runs none twice.
func TestLeaderKilledDuringBurst(t *testing.T) {
	for _, mode := range []string{"FILESYSTEM", "ZOOKEEPER"} {
		t.Run(mode, func(t *testing.T) { leaderKilledDuringBurst(t, mode) })
	}
}

func leaderKilledDuringBurst(t *testing.T, mode string) {
	h := startHA(t, mode, 2, "-Daloha.worker.timeout=5s", "-Daloha.deploy.retainedApplications=1000")
	first := h.leader()
	var workDirs []string
	for i := range 2 {
		dir := filepath.Join(h.dir, fmt.Sprintf("worker-%d", i))
		workDirs = append(workDirs, dir)
		startWorker(t, dir, h.masterList(), "-c", "4", "-m", "4g")
	}
	c := h.client()
	const total = 500
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		fails int
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				id, err := c.Submit(ctx, api.AppSpec{Name: "burst", EntryPoint: "shell", Args: "echo ran", Cores: 1, Memory: 16})
				mu.Lock()
				if err == nil {
					acked[id] = true
				} else {
					fails++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range total {
		if i == total/3 {
			h.masters[first].kill9()
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if fails > 0 {
		t.Logf("%d submissions failed without an answer (ambiguous)", fails)
	}
	if len(acked) < total*9/10 {
		t.Fatalf("only %d of %d submissions acknowledged", len(acked), total)
	}
	// Every acknowledged application reaches one final state: FINISHED.
	testutil.WaitFor(t, 2*time.Minute, func() error {
		lctx, lcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer lcancel()
		apps, err := c.List(lctx, api.ListAppsRequest{})
		if err != nil {
			return err
		}
		byID := map[string]api.AppInfo{}
		for _, a := range apps {
			byID[a.ID] = a
		}
		for id := range acked {
			a, ok := byID[id]
			if !ok {
				return fmt.Errorf("acknowledged %s is missing", id)
			}
			if a.State != api.AppFinished {
				return fmt.Errorf("%s is %s (%s)", id, a.State, a.Message)
			}
		}
		if extra := len(apps) - len(acked); extra > fails {
			return fmt.Errorf("%d applications nobody was told about (only %d submissions were ambiguous)", extra, fails)
		}
		return nil
	})
	// Each ran exactly once: its stdout, in exactly one worker's
	// directory, holds one line.
	for id := range acked {
		var lines int
		for _, wd := range workDirs {
			if b, err := os.ReadFile(filepath.Join(wd, id, "stdout")); err == nil {
				lines += strings.Count(string(b), "ran\n")
			}
		}
		if lines != 1 {
			t.Errorf("%s ran %d times", id, lines)
		}
	}
	if h.leader() == first {
		t.Fatal("the killed master still leads")
	}
}

// A master killed with SIGKILL again and again while it writes leaves a
// directory from which the next master reads every acknowledged
// application.
func TestMasterKilledWhileWriting(t *testing.T) {
	h := &haCluster{t: t, dir: t.TempDir(), flags: haMode(t, "FILESYSTEM")}
	acked := map[string]bool{}
	for round := range 5 {
		m := h.addMaster()
		c := h.client()
		h.leader()
		ctx, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					id, err := c.Submit(ctx, api.AppSpec{Name: "w", EntryPoint: "shell", Args: "true", Memory: 16})
					if err == nil {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
					}
				}
			}()
		}
		// Let some submissions land, then kill mid-stream.
		testutil.WaitFor(t, 30*time.Second, func() error {
			mu.Lock()
			defer mu.Unlock()
			if len(acked) < (round+1)*100 {
				return fmt.Errorf("%d acknowledged", len(acked))
			}
			return nil
		})
		m.kill9()
		cancel()
		wg.Wait()
		h.masters, h.urls = nil, nil
	}
	h.addMaster()
	c := h.client()
	h.leader()
	apps, err := c.List(context.Background(), api.ListAppsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, a := range apps {
		have[a.ID] = true
	}
	for id := range acked {
		if !have[id] {
			t.Errorf("acknowledged %s lost", id)
		}
	}
	t.Logf("%d acknowledged submissions over 5 kills, all read back", len(acked))
}

// A worker killed with SIGKILL and started again on its directory
// re-attaches the applications still running, and their real exit codes
// are recorded, also for one that ended while no worker ran.
func TestWorkerRestartReattaches(t *testing.T) {
	dir := t.TempDir()
	_, url, _ := startMaster(t, dir, "-Daloha.worker.timeout=10s")
	c, _ := client.New(client.Config{Masters: []string{url}})
	defer c.Close()
	workDir := filepath.Join(dir, "work")
	w := startWorker(t, workDir, url)
	gate := filepath.Join(dir, "gate")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	late, err := c.Submit(ctx, api.AppSpec{Name: "late", EntryPoint: "shell", Args: "while [ ! -e " + gate + " ]; do sleep 0.05; done; exit 7", Memory: 16})
	if err != nil {
		t.Fatal(err)
	}
	early, err := c.Submit(ctx, api.AppSpec{Name: "early", EntryPoint: "shell", Args: "while [ ! -e " + gate + ".early ]; do sleep 0.05; done; exit 5", Memory: 16})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{late, early} {
		waitClientState(t, c, id, api.AppRunning)
		readPid(t, filepath.Join(workDir, id))
	}
	w.kill9WorkerOnly()
	os.WriteFile(gate+".early", nil, 0o644)
	waitGone(t, readPid(t, filepath.Join(workDir, early)))
	startWorker(t, workDir, url)
	if info := waitClientState(t, c, early, api.AppFailed); info.ExitCode == nil || *info.ExitCode != 5 {
		t.Fatalf("app that ended while the worker was down: %+v", info)
	}
	if info := waitClientState(t, c, late, api.AppRunning); info.State != api.AppRunning {
		t.Fatalf("re-attached app: %+v", info)
	}
	os.WriteFile(gate, nil, 0o644)
	if info := waitClientState(t, c, late, api.AppFailed); info.ExitCode == nil || *info.ExitCode != 7 {
		t.Fatalf("re-attached app's end: %+v", info)
	}
}

func waitClientState(t *testing.T, c *client.Client, id string, want api.AppState) *api.AppInfo {
	t.Helper()
	var info *api.AppInfo
	testutil.WaitFor(t, 60*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		if info, err = c.Status(ctx, id); err != nil {
			return err
		}
		if info.State != want {
			return fmt.Errorf("%s is %s (%s), want %s", id, info.State, info.Message, want)
		}
		return nil
	})
	return info
}
