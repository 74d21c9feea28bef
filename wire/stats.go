package wire

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
)

// Stats are a node's counters since NewNode, for monitoring. Each is
// monotonic. Handshake frames are not counted as frames.
type Stats struct {
	// FramesRead and FramesWritten count frames on established
	// connections; a frame is counted as written once the write system
	// call that carried it returned without error.
	FramesRead    uint64
	FramesWritten uint64
	// DialFailures counts dials that failed before a handshake could
	// start: refused, unreachable, timed out.
	DialFailures uint64
	// HandshakeFailures counts handshakes that failed, on either side:
	// wrong secret, wrong version, a peer that said nothing in time.
	HandshakeFailures uint64
	// Connections closed, by the class of the first reason: exactly one
	// of these grows by one per established connection that closes.
	ClosedProtocol uint64 // a malformed, truncated or too large frame, an undecodable envelope
	ClosedIO       uint64 // a read or write error other than an orderly close (reset, timeout)
	ClosedSlowPeer uint64 // the peer let more than MaxPendingBytes pile up
	ClosedEOF      uint64 // the peer closed the connection
	ClosedIdle     uint64 // no traffic for IdleTimeout
	ClosedLocal    uint64 // this node closed it (Close, or a newer connection replaced it)
}

// counters are the atomics behind Stats.
type counters struct {
	framesRead, framesWritten                                   atomic.Uint64
	dialFailures, handshakeFailures                             atomic.Uint64
	closedProtocol, closedIO, closedSlow, closedEOF, closedIdle atomic.Uint64
	closedLocal                                                 atomic.Uint64
}

// Stats returns the node's counters. It is safe to call at any time, also
// after Close.
func (n *Node) Stats() Stats {
	c := &n.stats
	return Stats{
		FramesRead:        c.framesRead.Load(),
		FramesWritten:     c.framesWritten.Load(),
		DialFailures:      c.dialFailures.Load(),
		HandshakeFailures: c.handshakeFailures.Load(),
		ClosedProtocol:    c.closedProtocol.Load(),
		ClosedIO:          c.closedIO.Load(),
		ClosedSlowPeer:    c.closedSlow.Load(),
		ClosedEOF:         c.closedEOF.Load(),
		ClosedIdle:        c.closedIdle.Load(),
		ClosedLocal:       c.closedLocal.Load(),
	}
}

// errSlowPeer is the close reason of a peer that does not read fast
// enough.
var errSlowPeer = errors.New("peer too slow")

// countClose counts a connection's close under the class of its reason.
func (c *counters) countClose(reason error) {
	switch {
	case errors.Is(reason, ErrHandshake), errors.Is(reason, ErrUnauthenticated):
		// Never established; counted as a handshake failure.
	case errors.Is(reason, errLocalClose), errors.Is(reason, net.ErrClosed):
		c.closedLocal.Add(1)
	case errors.Is(reason, errIdle):
		c.closedIdle.Add(1)
	case errors.Is(reason, errSlowPeer):
		c.closedSlow.Add(1)
	case errors.Is(reason, ErrMalformedFrame), errors.Is(reason, ErrFrameTooLarge), errors.Is(reason, ErrUnknownType):
		c.closedProtocol.Add(1)
	case errors.Is(reason, io.EOF):
		c.closedEOF.Add(1)
	default:
		c.closedIO.Add(1)
	}
}
