package app

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultKillTimeout is the grace between SIGTERM and SIGKILL when a
// Launch gives none (aloha.worker.killTimeout's default).
const DefaultKillTimeout = 10 * time.Second

// drainInterval is how often a shutdown checks whether the rest of the
// group has gone after the leader has: short, because Done waits on it.
const drainInterval = 20 * time.Millisecond

// process is the Running of every process kind, for a process started
// here (its parent is this worker) or re-attached after a worker restart.
//
// The process-group id is the leader's pid. Signalling -pgid is safe only
// while that number cannot have been handed to a stranger: while the
// leader lives or is an unreaped zombie, or while any member of the group
// lives. A started process guarantees it by reaping the leader only after
// the last signal, under mu; a re-attached one, whose leader init reaps,
// signals the group after the leader's end only when /proc shows live
// members, which hold the number.
type process struct {
	pid   int
	grace time.Duration
	done  chan struct{}

	mu       sync.Mutex
	stopping bool      // Shutdown has been called
	reason   string    // Shutdown's reason
	killAt   time.Time // when SIGKILL follows SIGTERM
	timer    *time.Timer
	over     bool // the group is finished with; no more signals
	exit     Exit
}

func newGroup(pid int, grace time.Duration) *process {
	if grace <= 0 {
		grace = DefaultKillTimeout
	}
	return &process{pid: pid, grace: grace, done: make(chan struct{})}
}

// newProcess watches a process this worker started. One goroutine per
// run waits for it; it ends when the run does.
func newProcess(cmd *exec.Cmd, grace time.Duration) *process {
	p := newGroup(cmd.Process.Pid, grace)
	// pidfd_open cannot pick up a stranger here: the child stays a zombie,
	// holding its pid, until cmd.Wait below reaps it.
	pidfd, _ := openPidfd(p.pid)
	go p.watchChild(cmd, pidfd)
	return p
}

func (p *process) Done() <-chan struct{} { return p.done }
func (p *process) Pid() int              { return p.pid }

func (p *process) Exit() Exit {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

func (p *process) Shutdown(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping || p.over {
		return
	}
	p.stopping, p.reason = true, reason
	p.killAt = time.Now().Add(p.grace)
	p.signalLocked(unix.SIGTERM)
	p.timer = time.AfterFunc(p.grace, p.kill)
}

// kill sends SIGKILL to the whole group unless it is over.
func (p *process) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signalLocked(unix.SIGKILL)
}

func (p *process) signalLocked(sig unix.Signal) {
	if p.over {
		return
	}
	// ESRCH only means everyone has gone already.
	_ = unix.Kill(-p.pid, sig)
}

// watchChild waits for a started leader to exit, clears out the rest of
// its group, and only then reaps it.
func (p *process) watchChild(cmd *exec.Cmd, pidfd *os.File) {
	var err error
	if pidfd != nil {
		err = waitPidfd(pidfd)
		pidfd.Close()
	}
	if pidfd == nil || err != nil {
		err = waitidNoReap(p.pid)
	}
	killed := p.leaderGone()
	// Leftovers (daemons started in the background, children that outlive
	// a shutdown's grace) go now: no orphans. The zombie leader still
	// holds the pgid, so this reaches only the app's group.
	p.kill()
	werr := cmd.Wait()
	var e Exit
	if ps := cmd.ProcessState; ps != nil {
		e = exitOf(ps.Sys().(syscall.WaitStatus))
	} else {
		e = Exit{Code: -1, Err: errors.Join(err, werr), Reason: "could not wait for the process"}
	}
	p.finish(e, killed)
}

// leaderGone is called once the leader has exited. It says whether
// Shutdown had been called by then, and if so gives the rest of the
// group what is left of the grace to end by itself: the leader of a
// script often dies at the first SIGTERM while the program it started is
// still flushing.
func (p *process) leaderGone() (killed bool) {
	p.mu.Lock()
	stopping, killAt := p.stopping, p.killAt
	p.mu.Unlock()
	if stopping {
		for time.Now().Before(killAt) && liveGroupMember(p.pid, p.pid) {
			time.Sleep(drainInterval)
		}
	}
	return stopping
}

func (p *process) finish(e Exit, killed bool) {
	p.mu.Lock()
	p.over = true
	if p.timer != nil {
		p.timer.Stop()
	}
	if killed {
		e.Killed, e.Reason = true, p.reason
	}
	p.exit = e
	p.mu.Unlock()
	close(p.done)
}

// openPidfd returns a non-blocking pidfd for pid as an *os.File, so that
// the runtime's poller can wait on it, or nil and an error when the
// kernel has no pidfd_open (before Linux 5.3).
func openPidfd(pid int) (*os.File, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if errors.Is(err, unix.EINVAL) { // PIDFD_NONBLOCK needs Linux 5.10
		if fd, err = unix.PidfdOpen(pid, 0); err == nil {
			err = unix.SetNonblock(fd, true)
			if err != nil {
				unix.Close(fd)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "pidfd:"+strconv.Itoa(pid)), nil
}

// waitPidfd returns when the process behind f has exited (a pidfd becomes
// readable then). It parks the goroutine in the runtime's poller rather
// than in a system call, so a worker with thousands of apps does not need
// thousands of threads.
func waitPidfd(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var pollErr error
	ready := func(fd uintptr, timeout int) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(fds, timeout)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				pollErr = err
				return true
			}
			return n > 0
		}
	}
	err = rc.Read(func(fd uintptr) bool { return ready(fd, 0) })
	if err != nil {
		// The poller refused the descriptor; block a thread instead.
		pollErr = nil
		err = rc.Control(func(fd uintptr) { ready(fd, -1) })
	}
	if err != nil {
		return err
	}
	return pollErr
}

// waitidNoReap blocks until child pid has exited but leaves it a zombie.
func waitidNoReap(pid int) error {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
