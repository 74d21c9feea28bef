package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// bareLaunch is what a worker minimally does per app: a fresh directory
// with stdout and stderr files, and the process in its own process group.
func bareLaunch(dir, script string) (*exec.Cmd, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	stdout, err := os.OpenFile(filepath.Join(dir, "stdout"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(dir, "stderr"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd := exec.Command("/bin/bash", "-c", script)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, cmd.Start()
}

// runBare launches n `/bin/bash -c true` with parallel launchers, each
// waiting for its process before the next, into fresh directories under
// root, and returns the elapsed time.
func runBare(root string, n, parallel int) (time.Duration, error) {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return 0, err
	}
	start := time.Now()
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				cmd, err := bareLaunch(filepath.Join(root, strconv.FormatInt(i, 10)), "true")
				if err == nil {
					err = cmd.Wait()
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}
