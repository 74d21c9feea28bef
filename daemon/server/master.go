package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/alohasched/aloha/daemon/app"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/events"
	"github.com/alohasched/aloha/daemon/master"
	"github.com/alohasched/aloha/daemon/rest"
	"github.com/alohasched/aloha/internal/buildinfo"
	"github.com/alohasched/aloha/wire"
)

// Master is a master daemon: its RPC node, its scheduler, its event
// listeners, its metrics and, unless disabled, its REST server (which
// serves the metrics at /metrics).
type Master struct {
	conf    *config.Conf
	log     *slog.Logger
	node    *wire.Node
	rpcLn   net.Listener
	restLn  net.Listener
	master  *master.Master
	url     string
	rec     *recoveryParts
	metrics *prometheus.Registry
}

// NewMaster builds the event listeners that aloha.extraListeners names,
// binds the master's listeners (aloha.master.host/port and
// aloha.master.rest.port) and prepares it to run. Programs that embed the
// master add listeners of their own; they are told of every event after
// the configured ones, each through a queue of its own (package events).
func NewMaster(conf *config.Conf, log *slog.Logger, listeners ...events.Listener) (*Master, error) {
	configured, err := Listeners(conf, log)
	if err != nil {
		return nil, fmt.Errorf("master: event listeners: %w", err)
	}
	host := conf.String(config.MasterHost)
	if err := checkExposure(conf, host, "master", log); err != nil {
		return nil, err
	}
	rpcLn, adv, err := listen(host, conf.Int(config.MasterPort))
	if err != nil {
		return nil, fmt.Errorf("master: listen on %s:%d (%s): %w", host, conf.Int(config.MasterPort), config.MasterPort, err)
	}
	s := &Master{conf: conf, log: log, rpcLn: rpcLn, url: wire.Scheme + adv}
	fail := func(err error) (*Master, error) {
		s.close()
		return nil, err
	}
	if conf.Bool(config.MasterRESTEnabled) {
		port := conf.Int(config.MasterRESTPort)
		s.restLn, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return fail(fmt.Errorf("master: REST server: listen on %s:%d (%s): %w", host, port, config.MasterRESTPort, err))
		}
	}
	s.node, err = wire.NewNode(wireConfig(conf, adv, log))
	if err != nil {
		return fail(fmt.Errorf("master: %w", err))
	}
	s.rec, err = openRecovery(conf, s.url, log)
	if err != nil {
		return fail(err)
	}
	kinds := app.NewRegistry().Names()
	for name := range conf.KindTemplates() {
		kinds = append(kinds, name)
	}
	s.metrics = newRegistry()
	latency := newSchedulingLatency()
	s.metrics.MustRegister(latency, newRPCCollector(s.node))
	s.master, err = master.New(master.Options{
		Node:                  s.node,
		URL:                   s.url,
		Log:                   log,
		WorkerTimeout:         conf.Duration(config.WorkerTimeout),
		DeadWorkerPersistence: conf.Int(config.DeadWorkerPersistence),
		SpreadOut:             conf.Bool(config.SpreadOut),
		RetainedApps:          conf.Int(config.RetainedApplications),
		Kinds:                 kinds,
		Version:               buildinfo.Version,
		RecoveryMode:          conf.String(config.RecoveryMode),
		Store:                 s.rec.store,
		Elector:               s.rec.elector,
		Listeners:             append(configured, listeners...),
		ObserveSchedulingLatency: func(d time.Duration) {
			latency.Observe(d.Seconds())
		},
	})
	if err != nil {
		return fail(err)
	}
	s.metrics.MustRegister(newMasterCollector(s.master))
	return s, nil
}

// MetricsHandler serves the master's metrics in the Prometheus text
// format, for programs that serve them elsewhere than the REST server's
// /metrics (for example with the REST server disabled).
func (s *Master) MetricsHandler() http.Handler { return metricsHandler(s.metrics, s.log) }

// URL is the master's aloha:// address.
func (s *Master) URL() string { return s.url }

// RESTAddr is the REST server's host:port, "" when it is disabled.
func (s *Master) RESTAddr() string {
	if s.restLn == nil {
		return ""
	}
	return s.restLn.Addr().String()
}

// Scheduler is the running master, for programs that embed it.
func (s *Master) Scheduler() *master.Master { return s.master }

func (s *Master) close() {
	if s.rpcLn != nil {
		s.rpcLn.Close()
	}
	if s.restLn != nil {
		s.restLn.Close()
	}
	if s.node != nil {
		s.node.Close()
	}
	if s.rec != nil {
		s.rec.close()
	}
}

// Run serves until ctx is done or the master fails.
func (s *Master) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopNode := serveNode(ctx, s.node, s.rpcLn, s.log)
	defer stopNode()
	var wg sync.WaitGroup
	if s.restLn != nil {
		handler := rest.NewHandler(master.Backend{M: s.master}, rest.Options{
			Logger: s.log,
			Secret: s.conf.String(config.AuthenticateSecret),
			Extra:  map[string]http.Handler{"/metrics": s.MetricsHandler()},
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rest.Serve(ctx, s.restLn, handler, s.log); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Error("REST server failed", "addr", s.restLn.Addr().String(), "error", err.Error())
			}
		}()
	}
	s.log.Info("master listening", "url", s.url, "recovery_mode", s.conf.String(config.RecoveryMode))
	err := s.master.Run(ctx)
	cancel()
	wg.Wait()
	s.rec.close()
	return err
}
