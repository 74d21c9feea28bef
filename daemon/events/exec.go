package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alohasched/aloha/api"
)

// DefaultExecTimeout bounds one run of the exec listener's command.
const DefaultExecTimeout = 30 * time.Second

// maxExecOutput bounds how much of the command's output a failure quotes
// (its last bytes).
const maxExecOutput = 1024

// ExecOptions configure an Exec listener.
type ExecOptions struct {
	// Command is run with /bin/sh -c for each event.
	Command string
	// Timeout bounds one run; the command's whole process group is killed
	// when it passes. 0 means DefaultExecTimeout.
	Timeout time.Duration
}

// Exec runs a shell command for each event, with the event in
// environment variables (see the package documentation). A non-zero exit
// or a timeout is a failure.
type Exec struct {
	opts ExecOptions
}

// NewExec checks opts and returns the listener.
func NewExec(opts ExecOptions) (*Exec, error) {
	if strings.TrimSpace(opts.Command) == "" {
		return nil, errors.New("exec listener: no command")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultExecTimeout
	}
	return &Exec{opts: opts}, nil
}

// Name is "exec".
func (x *Exec) Name() string { return ExecListenerName }

// OnEvent runs the command for e and waits for it.
func (x *Exec) OnEvent(ctx context.Context, e api.Event) error {
	ctx, cancel := context.WithTimeout(ctx, x.opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", x.opts.Command)
	cmd.Env = eventEnv(e)
	// Its own process group, killed whole, so that nothing the command
	// started outlives the timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out := &tail{max: maxExecOutput}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	if err == nil {
		return nil
	}
	var why string
	var ee *exec.ExitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		why = "timed out after " + x.opts.Timeout.String()
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		why = fmt.Sprintf("exited with status %d", ee.ExitCode())
	default:
		why = err.Error()
	}
	if s := bytes.TrimSpace(out.bytes()); len(s) > 0 {
		return fmt.Errorf("exec listener: command %s for event %d; output: %q", why, e.Seq, s)
	}
	return fmt.Errorf("exec listener: command %s for event %d", why, e.Seq)
}

// eventEnv is the daemon's environment without its secret, plus the
// event's variables.
func eventEnv(e api.Event) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ALOHA_SECRET=") || strings.HasPrefix(kv, "ALOHA_EVENT_") {
			continue
		}
		env = append(env, kv)
	}
	for _, v := range eventVars(e) {
		env = append(env, v.env+"="+v.value)
	}
	return env
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf)
}
