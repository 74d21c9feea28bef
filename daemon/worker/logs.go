package worker

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// Log reads are bounded: defaultLogChunk when the request names no size,
// maxLogChunk at most, and maxLogWait for a follower's wait.
const (
	defaultLogChunk = 64 << 10
	maxLogChunk     = 1 << 20
	maxLogWait      = time.Minute
)

// serveLog answers a log read off the loop; a follower's wait runs on a
// goroutine of its own.
func (w *Worker) serveLog(m *wire.Message, req *api.ReadLogRequest) {
	reply := m.Defer()
	w.goAttach(func() { reply(w.readLog(req)) })
}

// readLog reads a piece of an application's stdout or stderr. Reads are
// confined to the application's own directory: the id must be an
// application id (no path), the stream one of two names, and neither the
// directory nor the file may be a symbolic link.
func (w *Worker) readLog(req *api.ReadLogRequest) (*api.LogChunk, error) {
	if !api.ValidAppID(req.AppID) {
		return nil, &wire.RemoteError{Code: api.CodeInvalid, Message: fmt.Sprintf("%q is not an application id", req.AppID)}
	}
	if req.Stream != api.Stdout && req.Stream != api.Stderr {
		return nil, &wire.RemoteError{Code: api.CodeInvalid, Message: fmt.Sprintf("log stream %q is not stdout or stderr", req.Stream)}
	}
	dir := filepath.Join(w.opts.WorkDir, req.AppID)
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		return nil, &wire.RemoteError{Code: api.CodeNotFound, Message: "no logs for application " + req.AppID + " on this worker"}
	}
	path := filepath.Join(dir, string(req.Stream))
	size := req.Max
	if size <= 0 {
		size = defaultLogChunk
	}
	size = min(size, maxLogChunk)
	wait := min(req.Wait, maxLogWait)
	deadline := time.Now().Add(wait)
	var watcher *fsnotify.Watcher
	defer func() {
		if watcher != nil {
			watcher.Close()
		}
	}()
	for {
		done := w.logDone(req.AppID)
		chunk, err := readChunk(path, req.Offset, size)
		if err != nil {
			return nil, err
		}
		chunk.Done = done && len(chunk.Data) < size && chunk.eof
		if len(chunk.Data) > 0 || done || wait <= 0 || time.Now().After(deadline) {
			return &chunk.LogChunk, nil
		}
		if watcher == nil {
			if watcher, err = fsnotify.NewWatcher(); err == nil {
				err = watcher.Add(dir)
			}
			if err != nil {
				return nil, fmt.Errorf("follow %s: %w", req.Stream, err)
			}
			continue // re-read: the file may have grown before the watch
		}
		req.Offset = chunk.Offset
		timer := time.NewTimer(min(time.Until(deadline), time.Second))
		select {
		case <-watcher.Events:
		case <-watcher.Errors:
		case <-timer.C: // also notices the application's end
		case <-w.ctx.Done():
			timer.Stop()
			return &chunk.LogChunk, nil
		}
		timer.Stop()
	}
}

type chunkRead struct {
	api.LogChunk
	eof bool
}

// readChunk reads up to size bytes from offset; a negative offset counts
// back from the end.
func readChunk(path string, offset int64, size int) (*chunkRead, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &chunkRead{LogChunk: api.LogChunk{Offset: max(offset, 0)}, eof: true}, nil
		}
		if errors.Is(err, syscall.ELOOP) {
			return nil, &wire.RemoteError{Code: api.CodeRefused, Message: "log file is a symbolic link; refusing to follow it"}
		}
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat log: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, &wire.RemoteError{Code: api.CodeRefused, Message: "log is not a regular file"}
	}
	end := fi.Size()
	if offset < 0 {
		offset = max(end+offset, 0)
	}
	offset = min(offset, end)
	buf := make([]byte, min(int64(size), end-offset))
	n, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read log: %w", err)
	}
	return &chunkRead{LogChunk: api.LogChunk{Data: buf[:n], Offset: offset}, eof: offset+int64(n) >= end}, nil
}

// logDone says whether the application's output is complete: it ended, or
// this worker process never ran it (an older run's directory).
func (w *Worker) logDone(id string) bool {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	ended, known := w.endedApps[id]
	return !known || ended
}
