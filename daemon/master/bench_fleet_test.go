package master

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// ---- the simulated fleet ----

// simWorker is a worker played by a wire node of its own: it registers,
// heartbeats, and answers every LaunchApp by reporting RUNNING then
// FINISHED.
type simWorker struct {
	id   string
	host string
	port int
	node *wire.Node
	ep   *wire.Endpoint
}

// fleet is the simulated workers of one benchmark.
type fleet struct {
	master   wire.Address
	workers  []*simWorker
	finished atomic.Int64 // FINISHED reports acknowledged by the master
	failures atomic.Int64
	firstErr atomic.Value
	// launchAt[seq] is when the LaunchApp of the app named "a-<seq>"
	// arrived, in nanoseconds since t0. It is allocated up front so that
	// recording allocates nothing the heap figures would count.
	t0       time.Time
	launchAt []int64
	// Launches of apps from probeFrom on are announced on probeCh.
	probeFrom int
	probeCh   chan int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stops  []func()
}

func (f *fleet) fail(err error) {
	f.failures.Add(1)
	f.firstErr.CompareAndSwap(nil, err)
}

func (f *fleet) err() error {
	if v := f.firstErr.Load(); v != nil {
		return fmt.Errorf("%d failures, the first: %w", f.failures.Load(), v.(error))
	}
	return nil
}

func appName(seq int) string { return "a-" + strconv.Itoa(seq) }

// appSeq is the sequence number in an app name "a-<seq>", or -1.
func appSeq(name string) int {
	s, ok := strings.CutPrefix(name, "a-")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// startFleet starts n simulated workers of the given cores for the master
// at masterAddr, registers them (64 at a time) and heartbeats them. apps
// bounds the sequence numbers of the apps it will be given; those from
// probeFrom on are announced on probeCh. Everything stops when tb ends.
func startFleet(tb testing.TB, masterAddr string, n, cores, apps, probeFrom int) *fleet {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &fleet{master: wire.Address{Host: masterAddr, Name: api.MasterEndpoint}, ctx: ctx, cancel: cancel,
		t0: time.Now(), launchAt: make([]int64, apps), probeFrom: probeFrom, probeCh: make(chan int, 1024)}
	tb.Cleanup(f.stop)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		node, err := wire.NewNode(wire.Config{Registry: api.NewRegistry(), Logger: benchQuiet(), AdvertiseAddr: ln.Addr().String()})
		if err != nil {
			ln.Close()
			tb.Fatal(err)
		}
		served := make(chan struct{})
		go func() {
			defer close(served)
			_ = node.Serve(ctx, ln)
		}()
		f.stops = append(f.stops, func() {
			node.Close()
			<-served
		})
		port := ln.Addr().(*net.TCPAddr).Port
		w := &simWorker{id: api.WorkerID(time.Now(), "127.0.0.1", port), host: "127.0.0.1", port: port, node: node}
		w.ep, err = node.Register(api.WorkerEndpoint, wire.HandlerFunc(func(m *wire.Message) (any, error) {
			if l, ok := m.Body.(*api.LaunchApp); ok {
				f.launch(w, l)
			}
			return nil, nil
		}))
		if err != nil {
			tb.Fatal(err)
		}
		f.workers = append(f.workers, w)
	}
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for _, w := range f.workers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			actx, acancel := context.WithTimeout(ctx, time.Minute)
			defer acancel()
			reg := &api.RegisterWorker{ID: w.id, Host: w.host, Port: w.port, Cores: cores, Memory: 64 << 10, Kinds: []string{"shell"}}
			if _, err := w.ep.Ask(actx, f.master, reg); err != nil {
				f.fail(fmt.Errorf("register %s: %w", w.id, err))
			}
		}()
	}
	wg.Wait()
	if err := f.err(); err != nil {
		tb.Fatal(err)
	}
	// Heartbeats, spread evenly over the interval.
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		tick := time.NewTicker(scaleHeartbeat / time.Duration(len(f.workers)))
		defer tick.Stop()
		for i := 0; ; i = (i + 1) % len(f.workers) {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			w := f.workers[i]
			sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
			if err := w.ep.Send(sctx, f.master, &api.Heartbeat{WorkerID: w.id}); err != nil && ctx.Err() == nil {
				f.fail(fmt.Errorf("heartbeat %s: %w", w.id, err))
			}
			scancel()
		}
	}()
	return f
}

// launch records the order, then reports RUNNING and FINISHED off the
// endpoint's goroutine.
func (f *fleet) launch(w *simWorker, l *api.LaunchApp) {
	if seq := appSeq(l.Spec.Name); seq >= 0 && seq < len(f.launchAt) {
		atomic.StoreInt64(&f.launchAt[seq], int64(time.Since(f.t0)))
		if seq >= f.probeFrom {
			select {
			case f.probeCh <- seq:
			default:
			}
		}
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		zero := 0
		for _, st := range []api.AppState{api.AppRunning, api.AppFinished} {
			ctx, cancel := context.WithTimeout(f.ctx, time.Minute)
			change := &api.AppStateChanged{WorkerID: w.id, AppID: l.AppID, Run: l.Run, State: st}
			if st == api.AppFinished {
				change.ExitCode = &zero
			}
			_, err := w.ep.Ask(ctx, f.master, change)
			cancel()
			if err != nil {
				if f.ctx.Err() == nil {
					f.fail(fmt.Errorf("report %s %s: %w", l.AppID, st, err))
				}
				return
			}
		}
		f.finished.Add(1)
	}()
}

func (f *fleet) stop() {
	f.cancel()
	f.wg.Wait()
	for _, s := range f.stops {
		s()
	}
	f.stops = nil
}

// loopRTT is one Ask through the master's loop that does O(1) work there:
// the status of an application that does not exist.
func (f *fleet) loopRTT(client *wire.Node) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(f.ctx, time.Minute)
	defer cancel()
	start := time.Now()
	_, err := client.Ask(ctx, f.master, &api.AppStatusRequest{AppID: "app-20000101000000-0000"})
	d := time.Since(start)
	var re *wire.RemoteError
	if errors.As(err, &re) && re.Code == api.CodeNotFound {
		err = nil
	}
	return d, err
}
