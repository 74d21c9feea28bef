package client

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// ErrNotFound is returned for an application or worker the leader does
// not know.
var ErrNotFound = errors.New("not found")

// ErrUnauthenticated is returned when the cluster refused the client's
// secret (or the client has none and the cluster requires one).
var ErrUnauthenticated = errors.New("authentication failed: check the secret (ALOHA_SECRET or --secret-file)")

// StandbyError says the masters reached are standbys and no leader
// answered; Leader is the last leader one of them named.
type StandbyError struct {
	Master string
	Leader string
}

func (e *StandbyError) Error() string {
	if e.Leader != "" && e.Leader != e.Master {
		return fmt.Sprintf("master %s is in standby and the leader %s did not answer", e.Master, e.Leader)
	}
	return fmt.Sprintf("master %s is in standby and no leader is elected yet", e.Master)
}

// RefusedError is a request the leader understood and refused.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

// InvalidError is a request the leader found malformed (an application
// spec that breaks a rule).
type InvalidError struct{ Reason string }

func (e *InvalidError) Error() string { return e.Reason }

// UnreachableError says no master answered before the deadline.
type UnreachableError struct {
	Masters []string
	Err     error // the last failure, if any
	Ctx     error // the context's error
}

func (e *UnreachableError) Error() string {
	msg := "no master reachable at " + strings.Join(e.Masters, ",")
	if e.Err != nil {
		msg += " (" + rootCause(e.Err) + ")"
	}
	return msg
}

func (e *UnreachableError) Unwrap() []error { return []error{e.Err, e.Ctx} }

// notFoundError keeps the leader's message while matching ErrNotFound.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string        { return e.msg }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// classify turns a wire error from master to into the client's types.
func classify(to wire.Address, err error) error {
	var re *wire.RemoteError
	if errors.As(err, &re) {
		switch re.Code {
		case api.CodeNotFound:
			return &notFoundError{msg: re.Message}
		case api.CodeStandby:
			return &StandbyError{Master: wire.Address{Host: to.Host}.String(), Leader: re.Detail}
		case api.CodeRefused:
			return &RefusedError{Reason: re.Message}
		case api.CodeInvalid:
			return &InvalidError{Reason: re.Message}
		}
		return err
	}
	if errors.Is(err, wire.ErrUnauthenticated) {
		return fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	return err
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
