// Package server builds Aloha's daemons from configuration: it binds the
// listeners, creates the wire nodes, and runs a master (with its REST
// server and event listeners), a worker, or both in one process (alohad
// local). The alohad command and the integration tests use it; programs
// that embed Aloha can too.
//
// # Metrics
//
// Each daemon keeps its own Prometheus registry (never the global one, so
// that alohad local's daemons do not mix) with the Go runtime (go_*) and
// process (process_*) collectors and the metrics below. The master serves
// them at /metrics on its REST port, behind the REST server's
// authentication (Authorization: Bearer <aloha.authenticate.secret> when a
// secret is set; with the REST server off, a program can serve
// Master.MetricsHandler itself). A worker serves them at /metrics on
// aloha.worker.host:aloha.worker.metrics.port (default 8081; 0 = any free
// port; -1 = off; a taken default falls back to a free port with a
// warning), behind the same secret. alohad local's workers serve none
// unless the key is set to 0: the master's /metrics covers the process.
//
// Master (figures read from the master's loop at each scrape; the
// application counts are kept as states change, so a scrape costs one
// pass over the workers, not over 100,000 retained applications):
//
//	aloha_master_state{state}            1 for the current state (STANDBY, RECOVERING, COMPLETING_RECOVERY, ALIVE), else 0
//	aloha_workers{state}                 workers known, by state (ALIVE, DEAD, DECOMMISSIONED, UNKNOWN)
//	aloha_apps{state}                    applications known (active and retained finished ones), by state
//	aloha_cores{kind="used|free"}        cores of the ALIVE workers
//	aloha_memory_mb{kind="used|free"}    memory of the ALIVE workers, MB
//	aloha_submissions_total              submissions accepted (a retried submission counts once)
//	aloha_scheduling_latency_seconds     histogram: for each placement, the time from the application
//	                                     becoming eligible (submitted, or queued again after a lost launch,
//	                                     a restart backoff or a change of leader) to its placement on a
//	                                     worker; not the duration of a scheduling pass
//	aloha_listener_failures_total{listener}  events a listener failed to handle (error or panic)
//	aloha_listener_dropped_total{listener}   events a listener missed because its queue was full
//
// Worker:
//
//	aloha_worker_apps_running            runs the worker has now (starting, running or stopping)
//	aloha_worker_launches_total          launch orders that started a run (re-attached runs excluded)
//	aloha_worker_app_exits_total{state}  runs ended, by final state (FINISHED, FAILED, KILLED, ERROR)
//
// Both (from wire.Node.Stats):
//
//	aloha_rpc_frames_total{direction="in|out"}  RPC frames on established connections
//	aloha_rpc_errors_total{reason}      failed dials (dial), failed handshakes (handshake), connections
//	                                    closed by a bad frame (protocol), by a read or write error (io),
//	                                    or for not reading fast enough (slow_peer)
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/wire"
)

// wireConfig turns the aloha.rpc.* and aloha.authenticate.* settings into
// a wire configuration.
func wireConfig(conf *config.Conf, advertise string, log *slog.Logger) wire.Config {
	return wire.Config{
		AdvertiseAddr:    advertise,
		Secret:           []byte(conf.String(config.AuthenticateSecret)),
		Registry:         api.NewRegistry(),
		Logger:           log,
		MaxFrameSize:     int(conf.Bytes(config.RPCMaxFrameSize)),
		HandshakeTimeout: conf.Duration(config.RPCHandshakeTimeout),
		IdleTimeout:      conf.Duration(config.RPCIdleTimeout),
	}
}

// listen binds host:port (port 0: any free port) and returns the listener
// with the address peers should use to reach it.
func listen(host string, port int) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, "", err
	}
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	adv := host
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		// Bound to every interface: peers need a name that reaches us.
		if name, err := os.Hostname(); err == nil {
			adv = name
		}
	}
	return ln, net.JoinHostPort(adv, p), nil
}

// serveNode runs a node's accept loop on a goroutine and returns a
// function that stops it and waits.
func serveNode(ctx context.Context, node *wire.Node, ln net.Listener, log *slog.Logger) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := node.Serve(ctx, ln); err != nil {
			log.Error("rpc listener failed", "addr", ln.Addr().String(), "error", err.Error())
		}
	}()
	return func() {
		cancel()
		node.Close()
		<-done
	}
}

// ParseMasters parses a comma-separated list of master URLs into the
// addresses of their Master endpoints.
func ParseMasters(urls string) ([]wire.Address, error) {
	addrs, err := wire.ParseAddressList(urls)
	if err != nil {
		return nil, fmt.Errorf("master URLs: %w", err)
	}
	for i := range addrs {
		addrs[i].Name = api.MasterEndpoint
	}
	return addrs, nil
}
