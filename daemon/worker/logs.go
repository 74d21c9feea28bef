package worker

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// Log reads are bounded: defaultLogChunk when the request names no size,
// maxLogChunk at most, and maxLogWait for a follower's wait.
const (
	defaultLogChunk = 64 << 10
	maxLogChunk     = 1 << 20
	maxLogWait      = time.Minute
	// logPollInterval paces a follower that could not get an inotify
	// watch.
	logPollInterval = 250 * time.Millisecond
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
	size := req.Max
	if size <= 0 {
		size = defaultLogChunk
	}
	size = min(size, maxLogChunk)
	wait := min(req.Wait, maxLogWait)
	deadline := time.Now().Add(wait)
	var watcher *fsnotify.Watcher
	polling := false
	defer func() {
		if watcher != nil {
			watcher.Close()
		}
	}()
	for {
		done := w.logDone(req.AppID)
		chunk, err := readChunk(dir, string(req.Stream), req.Offset, size)
		if err != nil {
			return nil, err
		}
		chunk.Done = done && len(chunk.Data) < size && chunk.eof
		if len(chunk.Data) > 0 || done || wait <= 0 || time.Now().After(deadline) {
			return &chunk.LogChunk, nil
		}
		if watcher == nil && !polling {
			watcher, err = fsnotify.NewWatcher()
			if err == nil {
				if err = watcher.Add(dir); err != nil {
					watcher.Close()
				}
			}
			if err != nil {
				// Out of inotify instances (many followers): poll instead.
				w.log.Debug("log follow falls back to polling", "app", req.AppID, "error", err.Error())
				watcher, polling = nil, true
			}
			continue // re-read: the file may have grown before the watch
		}
		req.Offset = chunk.Offset
		var events <-chan fsnotify.Event
		var errs <-chan error
		tick := time.Second
		if watcher != nil {
			events, errs = watcher.Events, watcher.Errors
		} else {
			tick = logPollInterval
		}
		timer := time.NewTimer(min(time.Until(deadline), tick))
		select {
		case <-events:
		case <-errs:
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

// readChunk reads up to size bytes of dir/name from offset; a negative
// offset counts back from the end. The directory is opened without
// following a symbolic link and the file is opened relative to it, also
// without following one, so an application cannot swap either for a link
// between a check and the read.
func readChunk(dir, name string, offset int64, size int) (*chunkRead, error) {
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return nil, &wire.RemoteError{Code: api.CodeRefused, Message: "the application directory is a symbolic link; refusing to follow it"}
		}
		return nil, &wire.RemoteError{Code: api.CodeNotFound, Message: "no logs at " + dir}
	}
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	unix.Close(dfd)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return &chunkRead{LogChunk: api.LogChunk{Offset: max(offset, 0)}, eof: true}, nil
		}
		if errors.Is(err, unix.ELOOP) {
			return nil, &wire.RemoteError{Code: api.CodeRefused, Message: "log file is a symbolic link; refusing to follow it"}
		}
		return nil, fmt.Errorf("open log: %w", err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(dir, name))
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
