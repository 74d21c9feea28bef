package main

import (
	"context"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/alohasched/aloha/api"
)

type submitCmd struct {
	Kind        string        `short:"k" default:"shell" placeholder:"KIND" complete:"shell,exec" help:"Application kind (entryPoint): shell (the default), exec, or a kind the cluster configures."`
	Name        string        `short:"n" placeholder:"NAME" help:"Name (default: the command's first word without its directory, e.g. python3 for 'python3 job.py')."`
	Cores       int           `short:"c" default:"1" help:"Cores to reserve."`
	Memory      string        `short:"m" placeholder:"MEM" help:"Memory to reserve: MB, or with a unit as in 512m or 2g (default 1024)."`
	Supervise   bool          `help:"Relaunch the application elsewhere, under a new id, when its worker is lost."`
	Env         []string      `sep:"none" placeholder:"KEY=VAL" help:"Add a variable to the application's environment (repeatable)."`
	Label       []string      `sep:"none" placeholder:"KEY=VAL" help:"Attach a label (repeatable)."`
	Lib         []string      `sep:"none" placeholder:"PATH" help:"A path the application needs, passed in ALOHA_LIBS (repeatable)."`
	MaxRuntime  time.Duration `name:"max-runtime" placeholder:"DURATION" help:"Kill the application when it runs longer than this (e.g. 1h)."`
	Restart     string        `placeholder:"POLICY" complete:"never,on-failure" help:"Restart policy: never (the default) or on-failure."`
	MaxAttempts int           `name:"max-attempts" placeholder:"N" help:"Restarts allowed with on-failure (default 3); implies --restart on-failure."`
	Backoff     time.Duration `placeholder:"DURATION" help:"Delay before the first restart, doubled for each next one (default 1s); implies --restart on-failure."`
	Wait        bool          `short:"w" help:"Follow the application's state changes (stderr) and stdout until it ends, and exit with its outcome."`
	Command     []string      `arg:"" optional:"" name:"command" help:"After --: for kind shell the words are joined into the script; for other kinds they are the argument vector."`
}

func (s *submitCmd) Run(ctx context.Context, g *Globals) error {
	spec, err := s.spec()
	if err != nil {
		return err
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	defer c.Close()
	var id string
	err = g.timed(ctx, func(ctx context.Context) error {
		id, err = c.Submit(ctx, spec)
		return err
	})
	if err != nil {
		return err
	}
	if !s.Wait {
		if g.json() {
			return printJSON(g.stdout, map[string]string{"id": id})
		}
		_, err := fmt.Fprintln(g.stdout, id)
		return err
	}
	return waitForApp(ctx, g, c, id)
}

// shellKinds join their arguments into one script: bash -c ARGS.
var shellKinds = map[string]bool{"shell": true, "me.jrwang.app.SimpleProcess": true}

// spec builds the application spec from the flags.
func (s *submitCmd) spec() (api.AppSpec, error) {
	spec := api.AppSpec{Name: s.Name, EntryPoint: s.Kind, Libs: s.Lib, Cores: s.Cores, Supervise: s.Supervise}
	if strings.TrimSpace(s.Kind) == "" {
		return spec, usageErrorf("--kind is empty; use shell, exec or a kind the cluster configures")
	}
	if len(s.Command) == 0 && (shellKinds[s.Kind] || s.Kind == "exec") {
		return spec, usageErrorf("no command given: put it after --, e.g. alohactl submit -- echo hello")
	}
	if shellKinds[s.Kind] {
		spec.Args = strings.Join(s.Command, " ")
	} else {
		spec.Argv = s.Command
	}
	if spec.Name == "" {
		spec.Name = defaultName(s.Kind, s.Command)
	}
	if s.Cores < 1 {
		return spec, usageErrorf("--cores %d: must be at least 1", s.Cores)
	}
	if s.Memory != "" {
		mb, err := parseMemoryMB(s.Memory)
		if err != nil {
			return spec, usageErrorf("--memory %q: %v", s.Memory, err)
		}
		spec.Memory = mb
	}
	var err error
	if spec.Env, err = parsePairs("--env", s.Env); err != nil {
		return spec, err
	}
	if spec.Labels, err = parsePairs("--label", s.Label); err != nil {
		return spec, err
	}
	if s.MaxRuntime < 0 {
		return spec, usageErrorf("--max-runtime %s: must not be negative", s.MaxRuntime)
	}
	spec.MaxRuntime = api.Duration(s.MaxRuntime)
	spec.Restart, err = s.restart()
	return spec, err
}

func (s *submitCmd) restart() (api.RestartPolicy, error) {
	p := api.RestartPolicy{Policy: s.Restart, MaxAttempts: s.MaxAttempts, Backoff: api.Duration(s.Backoff)}
	implied := s.MaxAttempts != 0 || s.Backoff != 0
	switch s.Restart {
	case "":
		if implied {
			p.Policy = api.RestartOnFailure
		}
	case api.RestartNever:
		if implied {
			return p, usageErrorf("--max-attempts and --backoff need --restart on-failure, not never")
		}
	case api.RestartOnFailure:
	default:
		return p, usageErrorf("--restart %q: want never or on-failure", s.Restart)
	}
	if s.MaxAttempts < 0 {
		return p, usageErrorf("--max-attempts %d: must be at least 1", s.MaxAttempts)
	}
	if s.Backoff < 0 {
		return p, usageErrorf("--backoff %s: must not be negative", s.Backoff)
	}
	return p, nil
}

// defaultName names an application after its command's first word
// (without directory), skipping VAR=value assignments; else after its kind.
func defaultName(kind string, command []string) string {
	for _, w := range strings.Fields(strings.Join(command, " ")) {
		if strings.Contains(w, "=") {
			continue
		}
		name := path.Base(strings.Trim(w, `"'`))
		if name == "." || name == "/" || name == "" {
			break
		}
		if len(name) > 64 {
			name = name[:64]
		}
		return name
	}
	return kind
}

// parsePairs reads repeated KEY=VALUE flags.
func parsePairs(flag string, items []string) (map[string]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(items))
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usageErrorf("%s %q: want KEY=VALUE", flag, item)
		}
		out[k] = v
	}
	return out, nil
}

// memoryUnits are binary multiples whatever the spelling, as the daemons
// read aloha.worker.memory: 1g, 1gb and 1gib are all 2^30 bytes.
var memoryUnits = map[string]int64{
	"b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

// parseMemoryMB reads a memory size: a bare number is MB, a unit may
// follow ("512m", "2g"). The result is a whole, positive number of MB.
func parseMemoryMB(s string) (int, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	const want = "want MB (e.g. 512) or a size with a unit (e.g. 512m, 2g)"
	if i == 0 {
		return 0, fmt.Errorf("not a memory size: %s", want)
	}
	mult := int64(1 << 20)
	if unit := strings.ToLower(strings.TrimSpace(s[i:])); unit != "" {
		var ok bool
		if mult, ok = memoryUnits[unit]; !ok {
			return 0, fmt.Errorf("unknown unit %q: %s", unit, want)
		}
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > math.MaxInt32*(1<<20)/mult {
		return 0, fmt.Errorf("too large")
	}
	bytes := n * mult
	switch {
	case bytes == 0:
		return 0, fmt.Errorf("must be at least 1 MB")
	case bytes%(1<<20) != 0:
		return 0, fmt.Errorf("not a whole number of MB")
	}
	return int(bytes >> 20), nil
}
