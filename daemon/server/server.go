// Package server builds Aloha's daemons from configuration: it binds the
// listeners, creates the wire nodes, and runs a master (with its REST
// server), a worker, or both in one process (alohad local). The alohad
// command and the integration tests use it; programs that embed Aloha can
// too.
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
