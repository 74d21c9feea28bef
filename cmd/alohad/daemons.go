package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/alohasched/aloha/daemon/config"
	"github.com/alohasched/aloha/daemon/server"
)

// configFlags are the configuration flags every daemon takes.
type configFlags struct {
	PropertiesFile string   `name:"properties-file" placeholder:"FILE" help:"Properties file (default: $$ALOHA_CONF_DIR/aloha-default.conf or $$ALOHA_HOME/conf/aloha-default.conf)."`
	Define         []string `short:"D" name:"define" sep:"none" placeholder:"KEY=VALUE" help:"Set a configuration key, e.g. -Daloha.worker.timeout=30s (repeatable)."`
}

// flagValue is a configuration value given by a command-line flag.
type flagValue struct{ value, flag string }

// load reads the configuration, applies the explicit flags on top and
// sets up logging. Flags hold their values as given, so that a bad one
// is refused by the key's own rule, naming the flag.
func (f *configFlags) load(flags map[string]flagValue) (*config.Conf, *slog.Logger, error) {
	conf, warnings, err := config.Load(config.LoadOptions{PropertiesFile: f.PropertiesFile, Overrides: f.Define})
	if err != nil {
		return nil, nil, err
	}
	for key, v := range flags {
		if err := conf.Set(key, v.value, "flag "+v.flag); err != nil {
			return nil, nil, err
		}
	}
	if err := conf.Validate(); err != nil {
		return nil, nil, err
	}
	log := newLogger(conf)
	for _, w := range warnings {
		log.Warn(w.String())
	}
	return conf, log, nil
}

func newLogger(conf *config.Conf) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(conf.String(config.LogLevel)))
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(conf.String(config.LogFormat), "json") {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// setIf adds a flag's value to the explicit settings when it was given.
func setIf(m map[string]flagValue, key, flag, value string) {
	if value != "" {
		m[key] = flagValue{value, flag}
	}
}

type masterCmd struct {
	configFlags
	Host     string `short:"h" placeholder:"HOST" help:"Host to bind and advertise (aloha.master.host, default 127.0.0.1)."`
	Port     string `short:"p" placeholder:"PORT" help:"RPC port (aloha.master.port, default 7077; 0: any free port)."`
	RestPort string `name:"rest-port" placeholder:"PORT" help:"REST port (aloha.master.rest.port, default 6066; 0: any free port)."`
}

// masterFlags are the settings master and local share.
func masterFlags(host, port, restPort string) map[string]flagValue {
	flags := map[string]flagValue{}
	setIf(flags, config.MasterHost, "-h", host)
	setIf(flags, config.MasterPort, "--port", port)
	setIf(flags, config.MasterRESTPort, "--rest-port", restPort)
	return flags
}

func (c *masterCmd) Run(ctx context.Context) error {
	flags := masterFlags(c.Host, c.Port, c.RestPort)
	conf, log, err := c.load(flags)
	if err != nil {
		return err
	}
	m, err := server.NewMaster(conf, log)
	if err != nil {
		return err
	}
	return m.Run(ctx)
}

type workerCmd struct {
	configFlags
	Host    string `short:"h" placeholder:"HOST" help:"Host to bind and advertise (aloha.worker.host, default 127.0.0.1)."`
	Port    string `short:"p" placeholder:"PORT" help:"RPC port (aloha.worker.port, default: any free port)."`
	Cores   string `short:"c" placeholder:"CORES" help:"Cores to offer (aloha.worker.cores, default: all)."`
	Memory  string `short:"m" placeholder:"MEM" help:"Memory to offer, e.g. 4096 (MB) or 4g (aloha.worker.memory, default: machine memory minus 1 GiB)."`
	WorkDir string `short:"d" name:"work-dir" placeholder:"DIR" help:"Directory for application directories (aloha.worker.dir, ALOHA_WORKER_DIR, default ./work)."`
	Masters string `arg:"" name:"master-url" help:"Master URL(s): aloha://host:port, comma-separated for several masters."`
}

func (c *workerCmd) Run(ctx context.Context) error {
	masters, err := server.ParseMasters(c.Masters)
	if err != nil {
		return err
	}
	flags := map[string]flagValue{}
	setIf(flags, config.WorkerHost, "-h", c.Host)
	setIf(flags, config.WorkerPort, "--port", c.Port)
	setIf(flags, config.WorkerCores, "--cores", c.Cores)
	setIf(flags, config.WorkerMemory, "--memory", c.Memory)
	setIf(flags, config.WorkerDir, "--work-dir", c.WorkDir)
	conf, log, err := c.load(flags)
	if err != nil {
		return err
	}
	w, err := server.NewWorker(conf, masters, nil, log)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

type localCmd struct {
	configFlags
	Host     string `short:"h" placeholder:"HOST" help:"Host to bind (aloha.master.host, default 127.0.0.1)."`
	Port     string `short:"p" placeholder:"PORT" help:"Master RPC port (aloha.master.port, default 7077; 0: any free port)."`
	RestPort string `name:"rest-port" placeholder:"PORT" help:"REST port (aloha.master.rest.port, default 6066; 0: any free port)."`
	Workers  int    `default:"2" help:"Number of workers."`
	Cores    int    `default:"0" help:"Cores per worker (default: the machine's cores divided among the workers)."`
	Memory   string `placeholder:"MEM" help:"Memory per worker, e.g. 2048 or 2g (default: the machine's memory divided among the workers)."`
	WorkDir  string `name:"work-dir" default:"work" placeholder:"DIR" help:"Directory for the workers' directories."`
}

func (c *localCmd) Run(ctx context.Context) error {
	flags := masterFlags(c.Host, c.Port, c.RestPort)
	conf, log, err := c.load(flags)
	if err != nil {
		return err
	}
	opts := server.LocalOptions{Workers: c.Workers, Cores: c.Cores, WorkDir: c.WorkDir}
	if c.Cores < 0 {
		return fmt.Errorf("--cores %d must not be negative", c.Cores)
	}
	if c.Memory != "" {
		// Parse like aloha.worker.memory, so "2g" works here too.
		probe := config.Defaults()
		if err := probe.Set(config.WorkerMemory, c.Memory, "flag --memory"); err != nil {
			return err
		}
		opts.Memory = probe.MemoryMB(config.WorkerMemory)
	}
	l, err := server.NewLocal(conf, opts, log)
	if err != nil {
		return err
	}
	return l.Run(ctx)
}

// oneLine folds a multi-line error (several configuration problems) into
// one line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
