package app

import (
	"context"
	"time"

	"github.com/alohasched/aloha/api"
)

// Files a process run keeps in its application directory.
const (
	// StdoutFile and StderrFile receive the process's output; they are
	// appended to, so a relaunch in the same directory keeps the earlier
	// output. StderrFile starts each run with the launch-command header.
	StdoutFile = "stdout"
	StderrFile = "stderr"
	// PidFile is the run's state, for a worker restarted on the same
	// directory (see Reattach). The runner writes the process-group
	// leader's pid and start time (field 22 of /proc/<pid>/stat, clock
	// ticks after boot, so that a pid reused by a stranger is not taken
	// for the app) as "<pid> <start>\n"; the wrapper that leads the group
	// appends the exit status as "<status>\n" when the application ends.
	// A fast application's status may come first; a line of two numbers
	// is the pid, of one number the status. The file is removed before
	// each launch, so what it holds is always this run's.
	PidFile = "app.pid"
)

// Launch is one run of an application on a worker.
type Launch struct {
	AppID string
	Spec  api.AppSpec
	Dir   string   // the app's own directory; exists; the process's cwd
	Env   []string // the complete environment for the process (the worker builds it); nil means empty
	// KillTimeout is the grace between SIGTERM and SIGKILL (aloha.worker.killTimeout, default 10s).
	KillTimeout time.Duration
}

// Kind starts applications of one kind.
type Kind interface {
	Name() string
	// Start launches the application and returns once it runs. ctx bounds
	// the launch only: cancelling it later does not stop the application
	// (Shutdown does).
	Start(ctx context.Context, l *Launch) (Running, error)
}

// Cleaner is implemented by kinds that keep something outside the app
// directory; the worker calls Clean when it removes the directory.
type Cleaner interface {
	Clean(l *Launch) error
}

// Running is a started application.
type Running interface {
	// Done is closed when the application has ended; Exit is valid then.
	Done() <-chan struct{}
	Exit() Exit
	// Shutdown asks the application to stop: SIGTERM to its whole process
	// group, SIGKILL to the group after the launch's KillTimeout. It returns at once;
	// Done closes when it is over. Calling it twice is harmless. reason is recorded.
	Shutdown(reason string)
	// Pid is the process-group leader's pid (0 if the kind runs no process).
	Pid() int
}

// Exit says how a run ended.
//
// Process kinds run the application under a wrapper shell, which reports
// a child killed by signal N as status 128+N, the shell's convention; Code
// is then 128+N and Signal names N. The same holds when the wrapper itself
// is killed (SIGKILL: 137, "killed").
type Exit struct {
	Code   int    // exit status; -1 when unknown
	Signal string // e.g. "killed" / "terminated" when ended by a signal
	Killed bool   // ended because Shutdown was called
	Reason string // Shutdown's reason, or why the exit is unknown
	Err    error  // set when the run could not be observed
}

// Success reports whether the run ended by itself with status 0.
func (e Exit) Success() bool { return e.Code == 0 && !e.Killed && e.Err == nil }

// unknownStatus is Exit.Reason when the wrapper left no status behind:
// the group was SIGKILLed, or the machine went down, before it could.
const unknownStatus = "exit status not recorded"
