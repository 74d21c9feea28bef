package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// pollWait is how long one long-poll waits for news before asking again.
const pollWait = 20 * time.Second

// LogOptions choose what Logs reads.
type LogOptions struct {
	// Stream is api.Stdout (the default) or api.Stderr.
	Stream api.LogStream
	// Follow keeps reading until the application ends.
	Follow bool
	// Tail, when positive, starts that many bytes before the end.
	Tail int64
}

// Logs copies an application's output from its worker to w: what there is
// now, or, with Follow, everything until the current run ends. While
// following, a worker that cannot be reached (it is restarting, or it is
// lost) is retried with a growing pause, asking the master again where the
// application runs; the error returned names the worker.
func (c *Client) Logs(ctx context.Context, appID string, opts LogOptions, w io.Writer) error {
	if opts.Stream == "" {
		opts.Stream = api.Stdout
	}
	offset := int64(0)
	if opts.Tail > 0 {
		offset = -opts.Tail
	}
	info, err := c.Status(ctx, appID)
	if err != nil {
		return err
	}
	worker := info.WorkerAddr
	pause := c.retry
	for {
		if worker == "" {
			if !opts.Follow || info.State.IsFinal() {
				return fmt.Errorf("application %s has no output: it never ran on a worker (%s)", appID, info.State)
			}
			// Not placed yet: wait for it to be.
			if info, err = c.waitPlaced(ctx, appID); err != nil {
				return err
			}
			worker = info.WorkerAddr
			continue
		}
		req := &api.ReadLogRequest{AppID: appID, Stream: opts.Stream, Offset: offset, Max: 256 << 10}
		if opts.Follow {
			req.Wait = pollWait
		}
		chunk, err := c.readLog(ctx, worker, req)
		if err != nil {
			// A worker answers "not found" until the launch reaches it;
			// while following an application that has not ended, that
			// means "not yet".
			notYet := errors.Is(err, ErrNotFound) && !info.State.IsFinal()
			if !opts.Follow || ctx.Err() != nil || (definite(err) && !notYet) {
				return fmt.Errorf("logs of %s from worker %s: %w", appID, worker, err)
			}
			// The worker may be restarting: pause, then look again where
			// the application runs.
			select {
			case <-ctx.Done():
				return fmt.Errorf("logs of %s from worker %s: %w", appID, worker, err)
			case <-time.After(pause):
			}
			pause = min(2*pause, 5*time.Second)
			if info, err = c.waitPlaced(ctx, appID); err != nil {
				return err
			}
			worker = info.WorkerAddr
			continue
		}
		pause = c.retry
		if _, err := w.Write(chunk.Data); err != nil {
			return err
		}
		offset = chunk.Offset + int64(len(chunk.Data))
		if !opts.Follow && (len(chunk.Data) == 0 || chunk.Done || len(chunk.Data) < req.Max) {
			return nil
		}
		if chunk.Done {
			return nil
		}
	}
}

func (c *Client) readLog(ctx context.Context, worker string, req *api.ReadLogRequest) (*api.LogChunk, error) {
	actx, cancel := context.WithTimeout(ctx, req.Wait+askTimeout)
	defer cancel()
	v, err := c.node.Ask(actx, wire.Address{Host: worker, Name: api.WorkerEndpoint}, req)
	if err != nil {
		return nil, classify(wire.Address{Host: worker}, err)
	}
	return v.(*api.LogChunk), nil
}

// waitPlaced polls until the application is on a worker or has ended.
func (c *Client) waitPlaced(ctx context.Context, appID string) (*api.AppInfo, error) {
	for {
		info, err := c.Status(ctx, appID)
		if err != nil {
			return nil, err
		}
		if info.WorkerAddr != "" && (info.State == api.AppRunning || info.State.IsFinal()) {
			return info, nil
		}
		if info.State.IsFinal() {
			return nil, fmt.Errorf("application %s ended (%s) without running", appID, info.State)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(c.retry):
		}
	}
}

// Events calls fn with every event after sequence number after, in order.
// With follow it keeps waiting for new events, across failovers, until
// ctx ends or fn returns an error; without, it returns once it has
// caught up. A subscriber that falls behind the leader's buffer receives
// an api.EventLagged event first. A new leader numbers its events anew,
// starting with its LeaderChanged event.
func (c *Client) Events(ctx context.Context, after uint64, follow bool, fn func(api.Event) error) error {
	var epoch uint64
	for {
		req := &api.EventsRequest{After: after, Max: 1000}
		if follow {
			req.Wait = pollWait
		}
		cctx, cancel := context.WithTimeout(ctx, req.Wait+askTimeout)
		v, err := c.call(cctx, req)
		cancel()
		if err != nil {
			if follow && ctx.Err() == nil && !definite(err) && !errors.Is(err, ErrUnauthenticated) {
				continue // the leader is changing; call waits for the next one
			}
			return err
		}
		batch := v.(*api.EventBatch)
		if epoch != 0 && batch.Epoch != epoch {
			// A new term: go on from its first event, not from a number of
			// the old term (a new leader numbers its own events; a master
			// leading again keeps its old ones, which were already seen).
			epoch, after = batch.Epoch, batch.TermStart-min(batch.TermStart, 1)
			continue
		}
		epoch = batch.Epoch
		for _, e := range batch.Events {
			if err := fn(e); err != nil {
				return err
			}
			after = e.Seq
		}
		if !follow && len(batch.Events) < req.Max {
			return nil
		}
	}
}
