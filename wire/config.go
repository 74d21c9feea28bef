package wire

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultIdleTimeout      = 2 * time.Minute
	// DefaultMailboxSize bounds an endpoint's queue; past it, asks are
	// answered "overloaded" and sends are dropped, so a flood from one peer
	// cannot exhaust memory.
	DefaultMailboxSize = 100_000
)

// Config configures a Node. The zero value of every field but Registry is
// usable.
type Config struct {
	// AdvertiseAddr is the host:port peers should dial to reach this node.
	// Empty means the address of the first listener passed to Serve; a node
	// that never serves (a client) stays anonymous to its peers.
	AdvertiseAddr string
	// Secret, when set, is required of every peer (aloha.authenticate.secret).
	Secret []byte
	// Registry maps message types to codes; it must be the same on every node.
	Registry *Registry
	// Logger receives one line per event worth an operator's attention.
	Logger *slog.Logger
	// MaxFrameSize bounds a frame body in bytes (aloha.rpc.maxFrameSize).
	MaxFrameSize int
	// HandshakeTimeout bounds the handshake (aloha.rpc.handshakeTimeout).
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection without traffic or pending asks for
	// that long (aloha.rpc.idleTimeout). Negative disables it.
	IdleTimeout time.Duration
	// MaxPendingBytes bounds what may wait to be written to one peer; a peer
	// that reads slower than this node writes is disconnected. Default 4×
	// MaxFrameSize.
	MaxPendingBytes int
	// MailboxSize bounds each endpoint's queue of messages.
	MailboxSize int
	// Dial opens connections; nil uses a net.Dialer. Tests use it to
	// partition nodes.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
}

func (c Config) withDefaults() (Config, error) {
	if c.Registry == nil {
		return c, fmt.Errorf("wire: config: Registry is required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxFrameSize == 0 {
		c.MaxFrameSize = DefaultMaxFrameSize
	}
	if c.MaxFrameSize < 64 || c.MaxFrameSize > 1<<30 {
		return c, fmt.Errorf("wire: config: MaxFrameSize %d is outside 64 B .. 1 GiB", c.MaxFrameSize)
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.HandshakeTimeout < 0 {
		return c, fmt.Errorf("wire: config: HandshakeTimeout %s is negative", c.HandshakeTimeout)
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxPendingBytes == 0 {
		c.MaxPendingBytes = 4 * c.MaxFrameSize
	}
	if c.MaxPendingBytes < c.MaxFrameSize {
		return c, fmt.Errorf("wire: config: MaxPendingBytes %d is smaller than MaxFrameSize %d", c.MaxPendingBytes, c.MaxFrameSize)
	}
	if c.MailboxSize == 0 {
		c.MailboxSize = DefaultMailboxSize
	}
	if c.MailboxSize < 1 {
		return c, fmt.Errorf("wire: config: MailboxSize %d must be at least 1", c.MailboxSize)
	}
	if c.AdvertiseAddr != "" {
		if err := checkHostPort(c.AdvertiseAddr); err != nil {
			return c, fmt.Errorf("wire: config: AdvertiseAddr %q: %w", c.AdvertiseAddr, err)
		}
	}
	if c.Dial == nil {
		var d net.Dialer
		c.Dial = func(ctx context.Context, addr string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		}
	}
	return c, nil
}
