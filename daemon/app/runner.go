package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The application runs under a small shell wrapper that leads its process
// group. The wrapper exists for one reason: a worker killed with SIGKILL
// and restarted is no longer the application's parent and cannot wait(2)
// for it, so the status must be left on disk by someone who can: the
// wrapper, the direct parent of the application. A shell costs one exec
// and stays asleep in wait(2); no Go process per application is needed.
//
// How the wrapper keeps the application's behaviour intact:
//
//   - "trap : TERM INT HUP" lets the wrapper outlive a signal sent to the
//     whole group, just long enough to record the status once its child
//     has ended; a shell runs a trap only after the foreground child
//     returns. Caught signals are reset to the default in children (a
//     subshell resets caught traps, exec(2) resets caught handlers), so
//     the application sees signals exactly as if it ran alone. Ignored
//     signals stay ignored, as they would without the wrapper.
//   - The shell kind's script runs in a subshell, "(eval ...)", so that
//     exec, exit N and traps in the script act on the subshell, never on
//     the wrapper. "set --" first gives the script the empty positional
//     parameters of a plain bash -c. As in any subshell, $$ in the script
//     is the wrapper's pid (the group leader) and $BASHPID its own; a
//     script that signals $$ alone reaches the wrapper, which waits on.
//   - Other kinds run "$@": the resolved argv, never parsed by a shell.
//   - A child killed by signal N yields status 128+N; the wrapper exits
//     with the same status, so the worker that did stay alive reads the
//     same number from wait(2) as a restarted one reads from the file.
//
// Where the status goes, and why there: the wrapper appends it to the
// PidFile the runner has written, with one printf, instead of creating a
// file of its own and renaming it into place. Every file created per
// launch costs an inode allocation, which on a busy ext4 is dearer than
// the wrapper's fork, and a rename needs an mv: a fork and exec more.
// Atomicity buys nothing here: the status is read only after the wrapper
// has exited, and one O_APPEND write of a few bytes cannot interleave
// with the runner's, whichever comes first.
const (
	recordStatus = `s=$?; printf '%d\n' "$s" >>` + PidFile + `; exit "$s"`
	bashWrapper  = `trap : TERM INT HUP; (eval "set --; $1"); ` + recordStatus
	shWrapper    = `trap : TERM INT HUP; "$@"; ` + recordStatus
	// wrapperArg0 becomes $0 of the wrapper, making it easy to spot in ps.
	wrapperArg0 = "aloha-app"
)

// startProcess runs argv for l under the wrapper. For the shell kind argv
// is {bash, "-c", script} and script runs in a subshell of the wrapping
// bash; otherwise argv[0] must already be resolved. The stderr header shows
// argv, the user's command, not the wrapper.
func startProcess(l *Launch, argv []string, shell bool) (Running, error) {
	if l.Dir == "" {
		return nil, errors.New("launch has no directory")
	}
	// The state of an earlier run of this app must not be taken for this
	// run's, least of all its exit status.
	if err := os.Remove(filepath.Join(l.Dir, PidFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	stdout, err := openLog(l.Dir, StdoutFile)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderr, err := openLog(l.Dir, StderrFile)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	if _, err := stderr.Write(header(argv)); err != nil {
		return nil, err
	}

	var cmd *exec.Cmd
	if shell {
		cmd = exec.Command(argv[0], "-c", bashWrapper, wrapperArg0, argv[2])
	} else {
		cmd = exec.Command("/bin/sh", append([]string{"-c", shWrapper, wrapperArg0}, argv...)...)
	}
	cmd.Dir = l.Dir
	cmd.Env = l.Env
	if cmd.Env == nil {
		cmd.Env = []string{} // nil would mean the worker's own environment
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr // stdin stays nil: /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}

	// The pid is recorded before anything may reap the leader: a zombie's
	// /proc entry still gives its start time, a reaped one none.
	pid := cmd.Process.Pid
	st, err := readStat(pid)
	if err == nil {
		err = writePidFile(l.Dir, pid, st.startTime)
	}
	if err != nil {
		// Without a pid file a restarted worker could neither find nor
		// stop this process, so it must not run. Unreaped, the leader
		// still holds the pgid.
		_ = unix.Kill(-pid, unix.SIGKILL)
		_ = cmd.Wait()
		return nil, fmt.Errorf("record pid of %s: %w", argv[0], err)
	}
	return newProcess(cmd, l.KillTimeout), nil
}

func openLog(dir, name string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
}

// header is the first thing a run writes to StderrFile, as the original
// worker did: the quoted command line, a rule and a blank line. Words are
// Go-quoted so that a multi-line script stays on one line.
func header(argv []string) []byte {
	var b strings.Builder
	b.WriteString("Launch command: ")
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Quote(a))
	}
	b.WriteString("\n" + strings.Repeat("=", 40) + "\n\n")
	return []byte(b.String())
}

// lookPath resolves the command of a launch the way exec.LookPath does,
// but with the PATH the process will have (from env, falling back to the
// worker's), because that is the PATH the operator configured for it. A
// name with a slash is taken as a path, relative to dir, the process's
// working directory. Relative PATH entries are skipped, as exec.LookPath
// refuses them too: they would depend on the app directory's contents.
func lookPath(file string, env []string, dir string) (string, error) {
	if strings.Contains(file, "/") {
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if err := executable(p); err != nil {
			return "", fmt.Errorf("command %q: %w", file, err)
		}
		return p, nil
	}
	path, ok := envValue(env, "PATH")
	if !ok {
		path = os.Getenv("PATH")
	}
	for _, d := range filepath.SplitList(path) {
		if !filepath.IsAbs(d) {
			continue
		}
		p := filepath.Join(d, file)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("command %q not found in PATH %q: %w", file, path, exec.ErrNotFound)
}

func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if err := unix.Access(path, unix.X_OK); err != nil {
		return fmt.Errorf("not executable: %w", err)
	}
	return nil
}

// envValue returns the last value of key in env, as getenv would.
func envValue(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// exitOf turns the wrapper's wait status into an Exit.
func exitOf(ws syscall.WaitStatus) Exit {
	switch {
	case ws.Exited():
		return codeExit(ws.ExitStatus())
	case ws.Signaled():
		return Exit{Code: 128 + int(ws.Signal()), Signal: ws.Signal().String()}
	}
	return Exit{Code: -1, Reason: fmt.Sprintf("unexpected wait status %#x", uint32(ws))}
}

// codeExit interprets a status the way the shell produced it: above 128
// it stands for a signal.
func codeExit(code int) Exit {
	e := Exit{Code: code}
	if code > 128 && code <= 128+64 {
		e.Signal = unix.Signal(code - 128).String()
	}
	return e
}

// pollInterval is how often a draining group or a re-attached process
// without pidfd support is checked: rare paths, where a quarter second of
// delay in noticing is of no consequence.
const pollInterval = 250 * time.Millisecond
