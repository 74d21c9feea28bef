package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/alohasched/aloha/client"
)

// Exit codes; see the package comment.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitAppError    = 125
	exitInterrupted = 130
	exitAppKilled   = 137
)

// usageError is a command line that cannot work: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// exitError ends alohactl with a given code and, if msg is set, says
// why. submit --wait uses it to pass on the application's outcome.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.msg
}

// appError names the application a cluster error was about, so that "not
// found" can say which.
type appError struct {
	id  string
	err error
}

func (e *appError) Error() string { return e.err.Error() }
func (e *appError) Unwrap() error { return e.err }

func forApp(id string, err error) error {
	if err == nil {
		return nil
	}
	return &appError{id: id, err: err}
}

// isClusterAnswer says whether err is the cluster's answer (not found,
// refused, invalid, unauthenticated) rather than a failure to get one.
func isClusterAnswer(err error) bool {
	var re *client.RefusedError
	var ie *client.InvalidError
	return errors.Is(err, client.ErrNotFound) || errors.As(err, &re) || errors.As(err, &ie) ||
		errors.Is(err, client.ErrUnauthenticated)
}

// report prints err as one line on stderr and returns the exit code. It is
// the one place where the client's typed errors become messages.
func report(err error, g *Globals, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	msg, code := describe(err, g)
	if msg != "" {
		fmt.Fprintln(stderr, "alohactl: "+oneLine(msg))
	}
	return code
}

// describe says what went wrong and what to do about it.
func describe(err error, g *Globals) (string, int) {
	var (
		ee    *exitError
		ue    *usageError
		unr   *client.UnreachableError
		sb    *client.StandbyError
		ref   *client.RefusedError
		inv   *client.InvalidError
		appID string
	)
	var ae *appError
	if errors.As(err, &ae) {
		appID = ae.id
	}
	switch {
	case errors.As(err, &ee):
		return ee.msg, ee.code
	case errors.As(err, &ue):
		return ue.msg, exitUsage
	case errors.Is(err, client.ErrUnauthenticated):
		return fmt.Sprintf("authentication failed at %s: the cluster refused this client's secret or requires one; "+
			"check ALOHA_SECRET or --secret-file against the masters' aloha.authenticate.secret", g.Master), exitFailed
	case errors.As(err, &unr):
		msg := "no master reachable at " + strings.Join(unr.Masters, ",")
		if unr.Err != nil {
			msg += " (" + rootCause(unr.Err) + ")"
		} else {
			msg += fmt.Sprintf(" (no answer within --timeout %s)", g.Timeout)
		}
		return msg + "; is the master running? set --master or ALOHA_MASTER", exitFailed
	case errors.As(err, &sb):
		return sb.Error() + "; retry in a moment, or list every master in --master", exitFailed
	case errors.Is(err, client.ErrNotFound):
		if appID != "" {
			return fmt.Sprintf("no application %s (check the id with alohactl list)", appID), exitFailed
		}
		return err.Error(), exitFailed
	case errors.As(err, &ref):
		return ref.Reason, exitFailed
	case errors.As(err, &inv):
		return inv.Reason, exitFailed
	}
	return err.Error(), exitFailed
}

// rootCause shortens a wrapped network error to its last part, e.g.
// "connection refused".
func rootCause(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// oneLine folds a multi-line message into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
