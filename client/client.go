// Package client is the Go SDK for Aloha: everything alohactl, the
// terminal UI and Go programs do with a cluster goes through it.
//
// A Client is given the URLs of every master. It finds the leader by
// itself (standbys name it), follows it after a failover, and retries
// what is safe to retry: queries and kills always, submissions too, since
// each carries a request id that makes a retry return the application
// the first attempt created. Every call takes a context; its deadline
// bounds the whole call, retries included.
//
//	c, err := client.New(client.Config{Masters: []string{"aloha://m1:7077", "aloha://m2:7077"}})
//	if err != nil { ... }
//	defer c.Close()
//	id, err := c.Submit(ctx, api.AppSpec{Name: "etl", EntryPoint: "shell", Args: "run-etl.sh"})
//
// Errors are typed: ErrNotFound, *StandbyError (no leader reachable, with
// the last leader named), *RefusedError (the request was understood and
// refused, with the reason), *InvalidError, ErrUnauthenticated and
// *UnreachableError (no master answered).
package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// Config configures a Client.
type Config struct {
	// Masters are the masters' URLs, aloha://host:port.
	Masters []string
	// Secret is the cluster's shared secret (aloha.authenticate.secret),
	// if it has one.
	Secret []byte
	// Logger receives wire-level diagnostics; nil discards them.
	Logger *slog.Logger
	// RetryInterval is the pause between rounds over the masters while no
	// leader answers (during a failover). Default 200 ms.
	RetryInterval time.Duration
}

// Client talks to an Aloha cluster. It is safe for concurrent use.
type Client struct {
	node    *wire.Node
	masters []wire.Address
	retry   time.Duration

	mu     sync.Mutex
	leader wire.Address // the last master that answered as the leader
}

// New returns a client for the given masters. It connects lazily.
func New(cfg Config) (*Client, error) {
	if len(cfg.Masters) == 0 {
		return nil, errors.New("client: no master URL given")
	}
	var masters []wire.Address
	for _, u := range cfg.Masters {
		addrs, err := wire.ParseAddressList(u)
		if err != nil {
			return nil, fmt.Errorf("client: master URL %q: %w", u, err)
		}
		for _, a := range addrs {
			a.Name = api.MasterEndpoint
			masters = append(masters, a)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	node, err := wire.NewNode(wire.Config{Registry: api.NewRegistry(), Secret: cfg.Secret, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	retry := cfg.RetryInterval
	if retry <= 0 {
		retry = 200 * time.Millisecond
	}
	return &Client{node: node, masters: masters, retry: retry, leader: masters[0]}, nil
}

// Close ends the client's connections.
func (c *Client) Close() error { return c.node.Close() }

// Masters returns the masters the client was given, as URLs.
func (c *Client) Masters() []string {
	out := make([]string, len(c.masters))
	for i, m := range c.masters {
		out[i] = wire.Address{Host: m.Host}.String()
	}
	return out
}

// Leader returns the URL of the master that last answered as the leader.
func (c *Client) Leader() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return wire.Address{Host: c.leader.Host}.String()
}

// newRequestID returns a random idempotency key.
func newRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("client: no randomness: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// Submit submits an application and returns its id. The submission
// carries a request id, so retrying it after a lost answer or a failover
// cannot create a second application.
func (c *Client) Submit(ctx context.Context, spec api.AppSpec) (string, error) {
	v, err := c.call(ctx, &api.SubmitApp{Spec: spec, RequestID: newRequestID()})
	if err != nil {
		return "", err
	}
	return v.(*api.SubmitAppResponse).AppID, nil
}

// Status returns what the leader knows of an application.
func (c *Client) Status(ctx context.Context, appID string) (*api.AppInfo, error) {
	v, err := c.call(ctx, &api.AppStatusRequest{AppID: appID})
	if err != nil {
		return nil, err
	}
	return v.(*api.AppInfo), nil
}

// Kill asks the leader to kill an application.
func (c *Client) Kill(ctx context.Context, appID string) (*api.KillAppResponse, error) {
	v, err := c.call(ctx, &api.KillAppRequest{AppID: appID})
	if err != nil {
		return nil, err
	}
	return v.(*api.KillAppResponse), nil
}

// List returns applications, newest first.
func (c *Client) List(ctx context.Context, req api.ListAppsRequest) ([]api.AppInfo, error) {
	v, err := c.call(ctx, &req)
	if err != nil {
		return nil, err
	}
	return v.(*api.AppList).Apps, nil
}

// Workers returns every worker the leader knows.
func (c *Client) Workers(ctx context.Context) ([]api.WorkerInfo, error) {
	v, err := c.call(ctx, &api.ListWorkersRequest{})
	if err != nil {
		return nil, err
	}
	return v.(*api.WorkerList).Workers, nil
}

// MasterInfo returns the leader's view of itself and the cluster.
func (c *Client) MasterInfo(ctx context.Context) (*api.MasterInfo, error) {
	v, err := c.call(ctx, &api.MasterStatusRequest{})
	if err != nil {
		return nil, err
	}
	return v.(*api.MasterInfo), nil
}
