package wire

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is.
var (
	// ErrClosed is returned by a Node that has been closed.
	ErrClosed = errors.New("wire: node closed")
	// ErrTimeout is returned by Ask when its context deadline passes before a
	// reply arrives. It also matches context.DeadlineExceeded.
	ErrTimeout = timeoutError{}
	// ErrPeerGone is returned when the connection to the peer closed before
	// the message could be delivered or answered.
	ErrPeerGone = errors.New("wire: peer connection closed")
	// ErrFrameTooLarge is a frame whose length exceeds Config.MaxFrameSize.
	ErrFrameTooLarge = errors.New("wire: frame too large")
	// ErrMalformedFrame is a frame that cannot be decoded.
	ErrMalformedFrame = errors.New("wire: malformed frame")
	// ErrHandshake is a handshake that failed for any reason.
	ErrHandshake = errors.New("wire: handshake failed")
	// ErrUnauthenticated is a handshake whose secret proof was missing or wrong.
	ErrUnauthenticated = errors.New("wire: authentication failed")
	// ErrUnknownType is a message type that is not in the Registry.
	ErrUnknownType = errors.New("wire: unknown message type")
	// ErrNotDialable is an address that names a peer without a listen address.
	ErrNotDialable = errors.New("wire: address is not dialable")
)

type timeoutError struct{}

func (timeoutError) Error() string        { return "wire: ask timed out" }
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// Error codes carried by error replies. Handlers choose their own codes by
// returning an error that implements Coder; these are the ones wire uses.
const (
	CodeInternal    = "internal"     // the handler failed or panicked
	CodeNoEndpoint  = "no_endpoint"  // no endpoint of that name at the peer
	CodeUnknownType = "unknown_type" // the message type code is not registered
	CodeBadMessage  = "bad_message"  // the body does not decode as its type
	CodeOverloaded  = "overloaded"   // the endpoint's mailbox is full
)

// Coder is implemented by errors that choose the code of the error reply
// they travel as.
type Coder interface {
	WireCode() string
}

// RemoteError is the error a peer's handler answered an Ask with.
type RemoteError struct {
	Code    string `msgpack:"code"`
	Message string `msgpack:"message"`
	// Detail is optional machine-readable data whose meaning depends on
	// Code (for example the leader's address when a standby refuses).
	Detail string `msgpack:"detail,omitempty"`
}

func (e *RemoteError) Error() string { return e.Message }

// WireCode lets a RemoteError be passed on unchanged.
func (e *RemoteError) WireCode() string { return e.Code }

// toRemoteError turns a handler error into what travels back to the caller.
func toRemoteError(err error) *RemoteError {
	var re *RemoteError
	if errors.As(err, &re) {
		return re
	}
	code := CodeInternal
	var c Coder
	if errors.As(err, &c) {
		code = c.WireCode()
	}
	return &RemoteError{Code: code, Message: err.Error()}
}

// ConnClosedError says why a connection closed. It matches ErrPeerGone.
type ConnClosedError struct {
	Peer   string
	Reason error
}

func (e *ConnClosedError) Error() string {
	return fmt.Sprintf("wire: connection to %s closed: %v", e.Peer, e.Reason)
}

func (e *ConnClosedError) Is(target error) bool { return target == ErrPeerGone }
func (e *ConnClosedError) Unwrap() error        { return e.Reason }
