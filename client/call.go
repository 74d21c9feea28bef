package client

import (
	"context"
	"errors"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// askTimeout bounds one attempt at one master, so a hung master does not
// eat the whole deadline of a call.
const askTimeout = 30 * time.Second

// call asks the leader, finding it first if need be. It tries the last
// known leader, then the leader a standby names, then every master in
// turn, round after round, until one answers as the leader or ctx ends.
// Every request is safe to repeat (submissions carry a request id), so
// any attempt that did not get a definite answer is repeated.
func (c *Client) call(ctx context.Context, body any) (any, error) {
	var last error
	var standby *StandbyError
	for round := 0; ; round++ {
		for _, to := range c.order() {
			v, err := c.ask(ctx, to, body)
			if err == nil {
				c.setLeader(to)
				return v, nil
			}
			if ctx.Err() != nil {
				return nil, c.finalError(ctx, last, standby)
			}
			var se *StandbyError
			switch {
			case errors.As(err, &se):
				standby = se
				if leader, ok := c.known(se.Leader); ok && leader != to {
					c.setLeader(leader)
					if v, err2 := c.ask(ctx, leader, body); err2 == nil {
						return v, nil
					} else if definite(err2) {
						return nil, err2
					}
				}
			case definite(err):
				return nil, err
			default:
				last = err
			}
		}
		select {
		case <-ctx.Done():
			return nil, c.finalError(ctx, last, standby)
		case <-time.After(c.retry):
		}
	}
}

// order lists the masters to try, the last known leader first.
func (c *Client) order() []wire.Address {
	c.mu.Lock()
	leader := c.leader
	c.mu.Unlock()
	out := []wire.Address{leader}
	for _, m := range c.masters {
		if m != leader {
			out = append(out, m)
		}
	}
	return out
}

func (c *Client) setLeader(a wire.Address) {
	c.mu.Lock()
	c.leader = a
	c.mu.Unlock()
}

// known turns a leader URL a standby gave into an address; leaders the
// client was not told about are followed too.
func (c *Client) known(url string) (wire.Address, bool) {
	if url == "" {
		return wire.Address{}, false
	}
	a, err := wire.ParseAddress(url)
	if err != nil {
		return wire.Address{}, false
	}
	a.Name = api.MasterEndpoint
	return a, true
}

func (c *Client) ask(ctx context.Context, to wire.Address, body any) (any, error) {
	actx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	v, err := c.node.Ask(actx, to, body)
	if err != nil {
		return nil, classify(to, err)
	}
	return v, nil
}

// definite says whether an error is the cluster's answer (not found,
// refused, invalid, unauthenticated) rather than a failure to get one.
func definite(err error) bool {
	var re *RefusedError
	var ie *InvalidError
	return errors.Is(err, ErrNotFound) || errors.As(err, &re) || errors.As(err, &ie) || errors.Is(err, ErrUnauthenticated)
}

func (c *Client) finalError(ctx context.Context, last error, standby *StandbyError) error {
	if standby != nil && last == nil {
		return standby
	}
	return &UnreachableError{Masters: c.Masters(), Err: last, Ctx: ctx.Err()}
}
