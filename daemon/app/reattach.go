package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ReattachInfo describes what Reattach found in an app directory.
type ReattachInfo struct {
	Pid       int    // the recorded process-group leader
	StartTime uint64 // its recorded start time, clock ticks after boot
	Alive     bool   // the recorded process is still running
}

// Reattach finds the application that a previous worker process started
// in dir, for a worker restarted on the same work directory.
//
// If the process recorded in PidFile still runs (same pid and same start
// time, so not a stranger that reuses the pid), the returned Running
// watches it without being its parent, and Shutdown signals its group as
// usual. When it ends, Exit.Code is the status the wrapper recorded in
// PidFile, or -1 with a Reason when there is none (the group was
// SIGKILLed).
//
// If the process is gone, the Running is already Done, with the recorded
// status when the application ended by itself while no worker watched.
//
// A missing or torn PidFile is an error naming it; a missing one
// satisfies errors.Is(err, fs.ErrNotExist).
func Reattach(dir string, killTimeout time.Duration) (Running, *ReattachInfo, error) {
	rec, err := readPidFile(dir)
	if err != nil {
		return nil, nil, err
	}
	pid, start := rec.pid, rec.startTime
	info := &ReattachInfo{Pid: pid, StartTime: start}
	p := newGroup(pid, killTimeout)

	// Open the pidfd before checking the start time: if the check then
	// passes, the pidfd is known to refer to the app and not to a process
	// that took the pid in between.
	// Without pidfd support (or if it fails) the watcher polls /proc.
	pidfd, _ := openPidfd(pid)
	reason, alive := identify(pid, start)
	if !alive {
		if pidfd != nil {
			pidfd.Close()
		}
		p.finish(endedExit(dir, reason), false)
		return p, info, nil
	}
	info.Alive = true
	go p.watchForeign(dir, start, pidfd)
	return p, info, nil
}

// identify says whether pid is the live process that started at start,
// and if not, why not.
func identify(pid int, start uint64) (reason string, alive bool) {
	st, err := readStat(pid)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("process %d is gone", pid), false
	case err != nil:
		return fmt.Sprintf("process %d: %v", pid, err), false
	case st.startTime != start:
		return fmt.Sprintf("pid %d now belongs to another process", pid), false
	case st.state == 'Z':
		return fmt.Sprintf("process %d has exited", pid), false
	}
	return "", true
}

// endedExit is the Exit of an application whose leader has gone: the
// status the wrapper recorded, or unknown with why.
func endedExit(dir, why string) Exit {
	// Read again: the status is appended when the run ends, after the
	// file was first read.
	if rec, err := readPidFile(dir); err == nil && rec.hasStatus {
		return codeExit(rec.status)
	}
	if why == "" {
		return Exit{Code: -1, Reason: unknownStatus}
	}
	return Exit{Code: -1, Reason: why + "; " + unknownStatus}
}

// watchForeign waits for a re-attached leader to end, through its pidfd
// or, without one, by polling /proc.
func (p *process) watchForeign(dir string, start uint64, pidfd *os.File) {
	var err error
	if pidfd != nil {
		err = waitPidfd(pidfd)
		pidfd.Close()
	}
	if pidfd == nil || err != nil {
		for {
			if _, alive := identify(p.pid, start); !alive {
				break
			}
			time.Sleep(pollInterval)
		}
	}
	killed := p.leaderGone()
	// Leftovers of the group go as they do for a started process, but
	// only if /proc shows some: with the leader reaped by init, live
	// members are what keeps the pgid from being reused.
	p.mu.Lock()
	if liveGroupMember(p.pid, p.pid) {
		p.signalLocked(unix.SIGKILL)
	}
	p.mu.Unlock()
	p.finish(endedExit(dir, ""), killed)
}
