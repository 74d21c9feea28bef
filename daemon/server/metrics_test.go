package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/master"
)

// scrape GETs a /metrics page and returns its samples by series
// (`name{labels}`) and the status code.
func scrape(t *testing.T, addr, secret string) (map[string]string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	samples := map[string]string{}
	for line := range strings.SplitSeq(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			samples[line[:i]] = line[i+1:]
		}
	}
	return samples, res.StatusCode
}

// expect checks samples against want (series → value, "" for any value).
func expect(t *testing.T, what string, samples, want map[string]string) {
	t.Helper()
	for series, v := range want {
		got, ok := samples[series]
		switch {
		case !ok:
			t.Errorf("%s lacks %s", what, series)
		case v != "" && got != v:
			t.Errorf("%s: %s = %s, want %s", what, series, got, v)
		}
	}
}

func submitTrue(t *testing.T, l *Local, n int) {
	t.Helper()
	b := master.Backend{M: l.Master.Scheduler()}
	for i := range n {
		id, err := b.Submit(context.Background(), api.AppSpec{Name: "m" + strconv.Itoa(i), EntryPoint: "shell", Args: "true", Memory: 16})
		if err != nil {
			t.Fatal(err)
		}
		if info := waitFinal(t, l, id); info.State != api.AppFinished {
			t.Fatalf("app = %+v", info)
		}
	}
}

func TestMetricsOfMasterAndWorker(t *testing.T) {
	conf := config.Defaults()
	for k, v := range map[string]string{config.WorkerMetricsPort: "0", config.ExtraListeners: "log"} {
		if err := conf.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	l := startLocal(t, conf, LocalOptions{Workers: 1, Cores: 2, Memory: 512})
	const n = 3
	submitTrue(t, l, n)

	got, status := scrape(t, l.Master.RESTAddr(), "")
	if status != http.StatusOK {
		t.Fatalf("master /metrics: status %d", status)
	}
	expect(t, "master /metrics", got, map[string]string{
		`aloha_master_state{state="ALIVE"}`:                       "1",
		`aloha_master_state{state="STANDBY"}`:                     "0",
		`aloha_workers{state="ALIVE"}`:                            "1",
		`aloha_workers{state="DEAD"}`:                             "0",
		`aloha_apps{state="FINISHED"}`:                            strconv.Itoa(n),
		`aloha_apps{state="RUNNING"}`:                             "0",
		`aloha_cores{kind="used"}`:                                "0",
		`aloha_cores{kind="free"}`:                                "2",
		`aloha_memory_mb{kind="free"}`:                            "512",
		`aloha_memory_mb{kind="used"}`:                            "0",
		`aloha_submissions_total`:                                 strconv.Itoa(n),
		`aloha_scheduling_latency_seconds_count`:                  strconv.Itoa(n),
		`aloha_scheduling_latency_seconds_bucket{le="+Inf"}`:      strconv.Itoa(n),
		`aloha_listener_failures_total{listener="log"}`:           "0",
		`aloha_listener_dropped_total{listener="log"}`:            "0",
		`aloha_rpc_frames_total{direction="in"}`:                  "",
		`aloha_rpc_frames_total{direction="out"}`:                 "",
		`aloha_rpc_errors_total{reason="handshake"}`:              "0",
		`aloha_rpc_errors_total{reason="protocol"}`:               "0",
		`go_goroutines`:                                           "",
		`process_cpu_seconds_total`:                               "",
		`promhttp_metric_handler_errors_total{cause="gathering"}`: "0",
	})
	if v, _ := strconv.Atoi(got[`aloha_rpc_frames_total{direction="in"}`]); v < 2*n {
		t.Errorf("master read %d frames, want at least %d (two reports per app)", v, 2*n)
	}

	addr := l.Workers[0].MetricsAddr()
	if addr == "" {
		t.Fatal("worker metrics are off with aloha.worker.metrics.port=0")
	}
	got, status = scrape(t, addr, "")
	if status != http.StatusOK {
		t.Fatalf("worker /metrics: status %d", status)
	}
	expect(t, "worker /metrics", got, map[string]string{
		`aloha_worker_apps_running`:                      "0",
		`aloha_worker_launches_total`:                    strconv.Itoa(n),
		`aloha_worker_app_exits_total{state="FINISHED"}`: strconv.Itoa(n),
		`aloha_worker_app_exits_total{state="FAILED"}`:   "0",
		`aloha_rpc_frames_total{direction="out"}`:        "",
		`aloha_rpc_errors_total{reason="io"}`:            "",
		`go_goroutines`:                                  "",
	})
	if _, ok := got[`aloha_apps{state="FINISHED"}`]; ok {
		t.Error("the worker's registry holds the master's metrics")
	}
}

// DESIGN §9: with a secret, /metrics is served only with the Bearer token,
// on the master and on a worker.
func TestMetricsNeedTheSecret(t *testing.T) {
	const secret = "metrics-s3cret"
	conf := config.Defaults()
	for k, v := range map[string]string{config.WorkerMetricsPort: "0", config.AuthenticateSecret: secret} {
		if err := conf.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	l := startLocal(t, conf, LocalOptions{Workers: 1, Cores: 1, Memory: 256})
	for what, addr := range map[string]string{"master": l.Master.RESTAddr(), "worker": l.Workers[0].MetricsAddr()} {
		if _, status := scrape(t, addr, ""); status != http.StatusUnauthorized {
			t.Errorf("%s /metrics without the token: status %d, want 401", what, status)
		}
		if _, status := scrape(t, addr, "wrong"); status != http.StatusUnauthorized {
			t.Errorf("%s /metrics with a wrong token: status %d, want 401", what, status)
		}
		got, status := scrape(t, addr, secret)
		if status != http.StatusOK || got[`go_goroutines`] == "" {
			t.Errorf("%s /metrics with the token: status %d, %d samples", what, status, len(got))
		}
	}
}

// alohad local's workers serve no metrics unless told to with 0.
func TestLocalWorkersServeNoMetricsByDefault(t *testing.T) {
	l := startLocal(t, config.Defaults(), LocalOptions{Workers: 2, Cores: 1, Memory: 256})
	for i, w := range l.Workers {
		if addr := w.MetricsAddr(); addr != "" {
			t.Errorf("worker %d serves metrics on %s", i+1, addr)
		}
	}
}

// A worker whose default metrics port is taken (another worker on the
// host) still starts, on a free port; an explicitly configured port that
// is taken refuses to start, naming the key.
func TestWorkerMetricsPortTaken(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	masters, err := ParseMasters("aloha://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	def := config.Defaults().Int(config.WorkerMetricsPort)
	held, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(def)))
	if err != nil && !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatal(err)
	}
	if held != nil { // else something else holds it: just as good
		defer held.Close()
	}
	conf := config.Defaults()
	if err := conf.Set(config.WorkerDir, t.TempDir(), "test"); err != nil {
		t.Fatal(err)
	}
	w, err := NewWorker(conf, masters, nil, log)
	if err != nil {
		t.Fatalf("NewWorker with the default metrics port taken = %v", err)
	}
	if addr := w.MetricsAddr(); addr == "" || strings.HasSuffix(addr, fmt.Sprintf(":%d", def)) {
		t.Errorf("metrics on %q, want a free port", addr)
	}
	w.close()

	if err := conf.Set(config.WorkerMetricsPort, strconv.Itoa(def), "test"); err != nil {
		t.Fatal(err)
	}
	if w, err := NewWorker(conf, masters, nil, log); err == nil {
		w.close()
		t.Fatal("NewWorker with a configured metrics port that is taken succeeded")
	} else if !strings.Contains(err.Error(), config.WorkerMetricsPort) {
		t.Fatalf("NewWorker = %v, want the key named", err)
	}
}
