package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/alohasched/aloha/daemon/app"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/worker"
	"github.com/alohasched/aloha/wire"
)

// Worker is a worker daemon: its RPC node and the worker itself.
type Worker struct {
	log    *slog.Logger
	node   *wire.Node
	ln     net.Listener
	worker *worker.Worker
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
	if kinds == nil {
		if kinds, err = Kinds(conf); err != nil {
			ln.Close()
			return nil, err
		}
	}
	node, err := wire.NewNode(wireConfig(conf, adv, log))
	if err != nil {
		ln.Close()
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
	w, err := worker.New(worker.Options{
		Node:            node,
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
		ln.Close()
		node.Close()
		return nil, err
	}
	return &Worker{log: log, node: node, ln: ln, worker: w}, nil
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

// Run serves until ctx is done.
func (s *Worker) Run(ctx context.Context) error {
	stop := serveNode(ctx, s.node, s.ln, s.log)
	defer stop()
	s.log.Info("worker listening", "addr", s.node.Addr())
	return s.worker.Run(ctx)
}
