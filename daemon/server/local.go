package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/alohasched/aloha/daemon/app"
	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/events"
)

// LocalOptions shape alohad local: how many workers, and what each offers.
type LocalOptions struct {
	Workers int
	// Cores and Memory (MB) per worker; 0 divides the machine among them.
	Cores  int
	Memory int
	// WorkDir holds one directory per worker (worker-1, worker-2, ...).
	WorkDir string
	// Kinds, when set, replaces the kinds built from configuration.
	Kinds *app.Registry
	// Listeners are event listeners of the embedding program, added to
	// the configured ones (see NewMaster).
	Listeners []events.Listener
}

// Local is a master and its workers in one process: the embedded default
// that needs no set-up.
type Local struct {
	Master  *Master
	Workers []*Worker
	log     *slog.Logger
}

// NewLocal prepares a master and opts.Workers workers. Workers listen on
// free ports of the master's host. The workers serve no metrics of their
// own (the master's /metrics covers the process: Go runtime, process,
// cluster) unless aloha.worker.metrics.port is set to 0, which gives each
// a free port (Worker.MetricsAddr, and logged); any other value of the
// key is ignored here, since several workers cannot share one port.
func NewLocal(conf *config.Conf, opts LocalOptions, log *slog.Logger) (*Local, error) {
	if opts.Workers < 1 {
		return nil, fmt.Errorf("local: --workers %d must be at least 1", opts.Workers)
	}
	m, err := NewMaster(conf, log, opts.Listeners...)
	if err != nil {
		return nil, err
	}
	l := &Local{Master: m, log: log}
	masters, err := ParseMasters(m.URL())
	if err != nil {
		m.close()
		return nil, err
	}
	cores := opts.Cores
	if cores == 0 {
		cores = max(config.DefaultWorkerCores()/opts.Workers, 1)
	}
	memory := opts.Memory
	if memory == 0 {
		memory = max(config.DefaultWorkerMemoryMB()/opts.Workers, 1)
	}
	metricsPort := "-1"
	if conf.Int(config.WorkerMetricsPort) == 0 {
		metricsPort = "0"
	}
	for i := 1; i <= opts.Workers; i++ {
		wc := conf.Clone()
		sets := map[string]string{
			config.WorkerHost:        conf.String(config.MasterHost),
			config.WorkerPort:        "0",
			config.WorkerCores:       strconv.Itoa(cores),
			config.WorkerMemory:      strconv.Itoa(memory),
			config.WorkerDir:         filepath.Join(opts.WorkDir, "worker-"+strconv.Itoa(i)),
			config.WorkerMetricsPort: metricsPort,
		}
		for k, v := range sets {
			if err := wc.Set(k, v, "alohad local"); err != nil {
				l.close()
				return nil, err
			}
		}
		w, err := NewWorker(wc, masters, opts.Kinds, log.With("worker", i))
		if err != nil {
			l.close()
			return nil, err
		}
		l.Workers = append(l.Workers, w)
	}
	return l, nil
}

func (l *Local) close() {
	l.Master.close()
	for _, w := range l.Workers {
		w.close()
	}
}

// Run runs the master and the workers until ctx is done or one of them
// fails; then it stops them all.
func (l *Local) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(l.Workers)+1)
	run := func(i int, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = f(ctx); errs[i] != nil {
				cancel()
			}
		}()
	}
	for i, w := range l.Workers {
		run(i+1, w.Run)
	}
	run(0, l.Master.Run)
	wg.Wait()
	return errors.Join(errs...)
}
