package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alohasched/aloha/daemon/app"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/rest"
	"github.com/alohasched/aloha/daemon/worker"
	"github.com/alohasched/aloha/wire"
)

// Worker is a worker daemon: its RPC node, the worker itself and, unless
// aloha.worker.metrics.port is -1, an HTTP server for its metrics.
type Worker struct {
	log       *slog.Logger
	node      *wire.Node
	ln        net.Listener
	worker    *worker.Worker
	metricsLn net.Listener // nil when off
	metrics   *prometheus.Registry
	secret    string
}

// NewWorker binds the worker's listener (aloha.worker.host/port) and
// prepares it to run applications for the given masters. kinds may be nil
// for the built-in kinds plus the configured command templates; programs
// that embed a worker pass a registry with their own kinds added.
func NewWorker(conf *config.Conf, masters []wire.Address, kinds *app.Registry, log *slog.Logger) (*Worker, error) {
	host := conf.String(config.WorkerHost)
	if err := checkExposure(conf, host, "worker", log); err != nil {
		return nil, err
	}
	ln, adv, err := listen(host, conf.Int(config.WorkerPort))
	if err != nil {
		return nil, fmt.Errorf("worker: listen on %s:%d (%s): %w", host, conf.Int(config.WorkerPort), config.WorkerPort, err)
	}
	s := &Worker{log: log, ln: ln, secret: conf.String(config.AuthenticateSecret)}
	if kinds == nil {
		if kinds, err = Kinds(conf); err != nil {
			s.close()
			return nil, err
		}
	}
	if port := conf.Int(config.WorkerMetricsPort); port >= 0 {
		s.metricsLn, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if errors.Is(err, syscall.EADDRINUSE) && conf.Source(config.WorkerMetricsPort) == config.SourceDefault {
			// Another worker on this host has the default port: metrics
			// must not keep this one from running applications.
			s.metricsLn, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
			if err == nil {
				log.Warn("the default metrics port is taken (another worker on this host?); serving metrics on a free port instead",
					"key", config.WorkerMetricsPort, "default", port, "addr", s.metricsLn.Addr().String())
			}
		}
		if err != nil {
			s.close()
			return nil, fmt.Errorf("worker: metrics: listen on %s:%d (%s; -1 turns the metrics server off): %w",
				host, port, config.WorkerMetricsPort, err)
		}
	}
	s.node, err = wire.NewNode(wireConfig(conf, adv, log))
	if err != nil {
		s.close()
		return nil, fmt.Errorf("worker: %w", err)
	}
	cores := conf.Int(config.WorkerCores)
	if cores == 0 {
		cores = config.DefaultWorkerCores()
	}
	memory := conf.MemoryMB(config.WorkerMemory)
	if memory == 0 {
		memory = config.DefaultWorkerMemoryMB()
	}
	s.worker, err = worker.New(worker.Options{
		Node:            s.node,
		Masters:         masters,
		Log:             log,
		Cores:           cores,
		Memory:          memory,
		WorkDir:         conf.String(config.WorkerDir),
		Kinds:           kinds,
		KillTimeout:     conf.Duration(config.WorkerKillTimeout),
		RetainedApps:    conf.Int(config.WorkerRetainedApplications),
		Cleanup:         conf.Bool(config.WorkerCleanupEnabled),
		CleanupInterval: conf.Duration(config.WorkerCleanupInterval),
		AppDataTTL:      conf.Duration(config.WorkerCleanupAppDataTTL),
		AskTimeout:      conf.Duration(config.RPCAskTimeout),
	})
	if err != nil {
		s.close()
		return nil, err
	}
	s.metrics = newRegistry()
	s.metrics.MustRegister(newWorkerCollector(s.worker), newRPCCollector(s.node))
	return s, nil
}

func (s *Worker) close() {
	s.ln.Close()
	if s.metricsLn != nil {
		s.metricsLn.Close()
	}
	if s.node != nil {
		s.node.Close()
	}
}

// Kinds returns the built-in application kinds plus the command templates
// configured with aloha.kind.<name>.command.
func Kinds(conf *config.Conf) (*app.Registry, error) {
	kinds := app.NewRegistry()
	for name, tmpl := range conf.KindTemplates() {
		if err := kinds.AddTemplate(name, tmpl); err != nil {
			return nil, fmt.Errorf("%s: %w", config.KindCommand(name), err)
		}
	}
	return kinds, nil
}

// ID is the worker's id.
func (s *Worker) ID() string { return s.worker.ID() }

// Addr is the worker's RPC address, host:port.
func (s *Worker) Addr() string { return s.node.Addr() }

// MetricsAddr is the metrics server's host:port, "" when it is off.
func (s *Worker) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

// MetricsHandler serves the worker's metrics in the Prometheus text
// format, for programs that serve them elsewhere.
func (s *Worker) MetricsHandler() http.Handler { return metricsHandler(s.metrics, s.log) }

// Run serves until ctx is done.
func (s *Worker) Run(ctx context.Context) error {
	stop := serveNode(ctx, s.node, s.ln, s.log)
	defer stop()
	s.log.Info("worker listening", "addr", s.node.Addr())
	if s.metricsLn != nil {
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		defer func() {
			cancel()
			<-done
		}()
		mux := http.NewServeMux()
		mux.Handle("/metrics", s.MetricsHandler())
		go func() {
			defer close(done)
			if err := rest.Serve(ctx, s.metricsLn, rest.RequireBearer(s.secret, mux), nil); err != nil {
				s.log.Error("metrics server failed", "addr", s.metricsLn.Addr().String(), "error", err.Error())
			}
		}()
		s.log.Info("worker metrics listening", "url", "http://"+s.metricsLn.Addr().String()+"/metrics")
	}
	return s.worker.Run(ctx)
}
