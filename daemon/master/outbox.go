package master

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// sendTimeout bounds one order to a worker, dial included. An order that
// cannot be sent is logged; the worker's heartbeat timeout then decides
// its fate.
const sendTimeout = 10 * time.Second

// outbox sends orders to one worker in order, on its own goroutine, so the
// master's loop never waits for a network peer. Launch and kill orders
// are asks: a worker that refuses one (an older epoch or session) says so,
// and refused hears of it, instead of the refusal staying in the worker's
// log while the application waits forever.
type outbox struct {
	node    *wire.Node
	to      wire.Address
	log     *slog.Logger
	refused func(order any, err *wire.RemoteError)

	mu     sync.Mutex
	queue  []any
	closed bool
	signal chan struct{} // capacity 1
	done   chan struct{}
}

func newOutbox(ctx context.Context, wg *sync.WaitGroup, node *wire.Node, to wire.Address, log *slog.Logger, refused func(any, *wire.RemoteError)) *outbox {
	o := &outbox{node: node, to: to, log: log, refused: refused, signal: make(chan struct{}, 1), done: make(chan struct{})}
	wg.Add(1)
	go o.run(ctx, wg)
	return o
}

// send queues an order; it never blocks.
func (o *outbox) send(msg any) {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.queue = append(o.queue, msg)
	o.mu.Unlock()
	select {
	case o.signal <- struct{}{}:
	default:
	}
}

// close drops what is queued and stops the goroutine. Orders are never
// sent after close: a master that steps down must not act for a term it
// no longer holds (and a dead worker gets nothing).
func (o *outbox) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.closed = true
		o.queue = nil
		close(o.done)
	}
}

func (o *outbox) isClosed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}

func (o *outbox) run(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.signal:
		case <-o.done:
		}
		o.mu.Lock()
		batch := o.queue
		o.queue = nil
		closed := o.closed
		o.mu.Unlock()
		for _, msg := range batch {
			if o.isClosed() {
				return
			}
			sctx, cancel := context.WithTimeout(ctx, sendTimeout)
			var err error
			switch msg.(type) {
			case *api.LaunchApp, *api.KillApp:
				_, err = o.node.Ask(sctx, o.to, msg)
			default:
				err = o.node.Send(sctx, o.to, msg)
			}
			cancel()
			var re *wire.RemoteError
			if errors.As(err, &re) && o.refused != nil {
				o.refused(msg, re)
				continue
			}
			if err != nil && ctx.Err() == nil {
				o.log.Warn("cannot send order to worker", "worker", o.to.String(), "order", typeName(msg), "error", err.Error())
			}
		}
		if closed {
			return
		}
	}
}
