package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/master"
	"github.com/alohasched/aloha/daemon/worker"
	"github.com/alohasched/aloha/wire"
)

// The metrics are listed in the package documentation.

// scrapeTimeout bounds how long a scrape waits for the master's loop.
const scrapeTimeout = 5 * time.Second

// newRegistry returns a daemon's own registry (never the global one, so
// that several daemons share a process, as in alohad local) holding the Go
// runtime and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// metricsHandler serves reg in the Prometheus text format. A collector
// that fails is logged and left out; the others are still served.
func metricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg, // counts promhttp's own errors
	})
}

type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) { l.log.Warn("metrics: " + fmt.Sprint(v...)) }

// newSchedulingLatency is aloha_scheduling_latency_seconds: buckets from
// half a millisecond (an idle cluster) to half an hour (an app waiting
// for resources), ×4 each.
func newSchedulingLatency() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "aloha_scheduling_latency_seconds",
		Help:    "Time from an application becoming eligible for placement (submitted, or queued again) to its placement on a worker.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 12),
	})
}

// rpcCollector exposes a wire node's counters.
type rpcCollector struct {
	node           *wire.Node
	frames, errors *prometheus.Desc
}

func newRPCCollector(node *wire.Node) *rpcCollector {
	return &rpcCollector{
		node: node,
		frames: prometheus.NewDesc("aloha_rpc_frames_total",
			"RPC frames on established connections, by direction (in, out).", []string{"direction"}, nil),
		errors: prometheus.NewDesc("aloha_rpc_errors_total",
			"RPC failures, by reason: dial, handshake, protocol (bad frame), io (reset, timeout), slow_peer.", []string{"reason"}, nil),
	}
}

func (c *rpcCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.frames; ch <- c.errors }

func (c *rpcCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.node.Stats()
	counter := func(d *prometheus.Desc, v uint64, label string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), label)
	}
	counter(c.frames, s.FramesRead, "in")
	counter(c.frames, s.FramesWritten, "out")
	counter(c.errors, s.DialFailures, "dial")
	counter(c.errors, s.HandshakeFailures, "handshake")
	counter(c.errors, s.ClosedProtocol, "protocol")
	counter(c.errors, s.ClosedIO, "io")
	counter(c.errors, s.ClosedSlowPeer, "slow_peer")
}

// masterCollector exposes the master's Stats, read on its loop at each
// scrape.
type masterCollector struct {
	m *master.Master

	state, workers, apps, cores, memory, submissions *prometheus.Desc
	listenerFailures, listenerDropped                *prometheus.Desc
}

func newMasterCollector(m *master.Master) *masterCollector {
	return &masterCollector{
		m: m,
		state: prometheus.NewDesc("aloha_master_state",
			"1 for the master's current state (STANDBY, RECOVERING, COMPLETING_RECOVERY, ALIVE), 0 for the others.", []string{"state"}, nil),
		workers: prometheus.NewDesc("aloha_workers",
			"Workers the master knows, by state.", []string{"state"}, nil),
		apps: prometheus.NewDesc("aloha_apps",
			"Applications the master knows (active and retained finished ones), by state.", []string{"state"}, nil),
		cores: prometheus.NewDesc("aloha_cores",
			"Cores of the alive workers, used or free.", []string{"kind"}, nil),
		memory: prometheus.NewDesc("aloha_memory_mb",
			"Memory of the alive workers in MB, used or free.", []string{"kind"}, nil),
		submissions: prometheus.NewDesc("aloha_submissions_total",
			"Submissions accepted since the master started.", nil, nil),
		listenerFailures: prometheus.NewDesc("aloha_listener_failures_total",
			"Events an event listener failed to handle (an error or a panic), by listener.", []string{"listener"}, nil),
		listenerDropped: prometheus.NewDesc("aloha_listener_dropped_total",
			"Events an event listener missed because its queue was full, by listener.", []string{"listener"}, nil),
	}
}

func (c *masterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.workers, c.apps, c.cores, c.memory, c.submissions, c.listenerFailures, c.listenerDropped} {
		ch <- d
	}
}

func (c *masterCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	st, err := c.m.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.apps, fmt.Errorf("master stats: %w", err))
		return
	}
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	for _, s := range api.MasterStates {
		v := 0
		if s == st.State {
			v = 1
		}
		gauge(c.state, v, string(s))
	}
	for _, s := range api.WorkerStates {
		gauge(c.workers, st.Workers[s], string(s))
	}
	for _, s := range api.AppStates {
		gauge(c.apps, st.Apps[s], string(s))
	}
	gauge(c.cores, st.CoresUsed, "used")
	gauge(c.cores, st.CoresFree, "free")
	gauge(c.memory, st.MemoryUsed, "used")
	gauge(c.memory, st.MemoryFree, "free")
	ch <- prometheus.MustNewConstMetric(c.submissions, prometheus.CounterValue, float64(st.Submissions))
	for _, l := range st.Listeners {
		ch <- prometheus.MustNewConstMetric(c.listenerFailures, prometheus.CounterValue, float64(l.Failures), l.Name)
		ch <- prometheus.MustNewConstMetric(c.listenerDropped, prometheus.CounterValue, float64(l.Dropped), l.Name)
	}
}

// workerCollector exposes a worker's Stats.
type workerCollector struct {
	w                        *worker.Worker
	running, launches, exits *prometheus.Desc
}

func newWorkerCollector(w *worker.Worker) *workerCollector {
	return &workerCollector{
		w: w,
		running: prometheus.NewDesc("aloha_worker_apps_running",
			"Runs the worker has now: starting, running or stopping.", nil, nil),
		launches: prometheus.NewDesc("aloha_worker_launches_total",
			"Launch orders that started a new run.", nil, nil),
		exits: prometheus.NewDesc("aloha_worker_app_exits_total",
			"Runs that ended, by final state (FINISHED, FAILED, KILLED, ERROR).", []string{"state"}, nil),
	}
}

func (c *workerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.running
	ch <- c.launches
	ch <- c.exits
}

func (c *workerCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.w.Stats()
	ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(st.AppsRunning))
	ch <- prometheus.MustNewConstMetric(c.launches, prometheus.CounterValue, float64(st.Launches))
	for _, s := range api.AppStates {
		if s.IsFinal() {
			ch <- prometheus.MustNewConstMetric(c.exits, prometheus.CounterValue, float64(st.Exits[s]), string(s))
		}
	}
}
