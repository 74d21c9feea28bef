package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// Registry maps kind names (api.AppSpec.EntryPoint) to kinds. It is safe
// for concurrent use; a worker fills it at start-up and looks kinds up for
// every launch.
type Registry struct {
	mu    sync.RWMutex
	kinds map[string]Kind
}

// NewRegistry returns a registry holding the built-in kinds: shell, exec
// and me.jrwang.app.SimpleProcess (an alias of shell).
func NewRegistry() *Registry {
	r := &Registry{kinds: make(map[string]Kind)}
	for _, k := range []Kind{
		shellKind{name: KindShell},
		shellKind{name: KindSimpleProcess},
		CommandKind(KindExec, execArgv),
	} {
		r.kinds[k.Name()] = k
	}
	return r
}

// Register adds k under k.Name(). A name already taken is an error.
func (r *Registry) Register(k Kind) error {
	if k == nil {
		return errors.New("register: nil kind")
	}
	name := k.Name()
	if err := checkName(name); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[name]; dup {
		return fmt.Errorf("kind %q is already registered", name)
	}
	r.kinds[name] = k
	return nil
}

// AddTemplate registers a kind named name that runs a command template
// (see the package documentation for placeholders and quoting). The
// template is checked now; its command is looked up only at each start,
// so a worker may be configured before the tool is installed.
func (r *Registry) AddTemplate(name, template string) error {
	if err := checkName(name); err != nil {
		return err
	}
	t, err := parseTemplate(name, template)
	if err != nil {
		return err
	}
	return r.Register(CommandKind(name, t.expand))
}

// Lookup returns the kind registered under name.
func (r *Registry) Lookup(name string) (Kind, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.kinds[name]
	return k, ok
}

// Names returns the registered kind names, sorted; workers report them to
// the master.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// checkName applies the rule the master applies to entryPoint, so that
// every registered kind can actually be submitted.
func checkName(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("kind name is empty")
	}
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return fmt.Errorf("kind name %q contains spaces", name)
	}
	return nil
}
