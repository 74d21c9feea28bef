package server

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/alohasched/aloha/daemon/config"
)

// checkExposure refuses to serve on an address other hosts can reach
// without a secret: submitting an application is running code on the
// cluster (Spark's unauthenticated REST server is CVE-2018-11770). With
// aloha.security.allowInsecure=true it only warns, at every start.
func checkExposure(conf *config.Conf, host, what string, log *slog.Logger) error {
	if loopback(host) || conf.String(config.AuthenticateSecret) != "" {
		return nil
	}
	if conf.Bool(config.SecurityAllowInsecure) {
		log.Warn("serving without a secret on an address other hosts can reach: anyone who can connect can run programs on this cluster",
			"what", what, "host", host, "key", config.AuthenticateSecret)
		return nil
	}
	return fmt.Errorf("%s: refusing to listen on %s without %s: anyone who could reach it could run programs on the cluster; set a secret (ALOHA_SECRET or %s), bind to 127.0.0.1, or set %s=true to accept the risk",
		what, host, config.AuthenticateSecret, config.AuthenticateSecret, config.SecurityAllowInsecure)
}

// loopback says whether host only reaches this machine: a loopback IP, or
// a name that resolves to loopback addresses only. The unspecified
// address (0.0.0.0, ::) reaches every interface.
func loopback(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}
