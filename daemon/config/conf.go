package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Conf holds one value per known key, each parsed and remembering where it
// came from. A Conf only ever holds values that parsed and passed their
// key's rule, so the getters cannot fail; Validate checks the rules that
// involve several keys. Set is not safe for concurrent use; reading a Conf
// that is no longer Set is.
type Conf struct {
	vals map[string]setting
}

type setting struct {
	raw    string // as given, trimmed
	source string
	val    any // as valueType.parse returns it
}

// Defaults returns a Conf holding the built-in default of every key.
func Defaults() *Conf {
	c := &Conf{vals: make(map[string]setting, len(table))}
	for i := range table {
		k := &table[i]
		v, err := k.typ.parse(k.def, k.enum)
		if err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", k.name, err)) // a bug in the table
		}
		c.vals[k.name] = setting{raw: k.def, source: SourceDefault, val: v}
	}
	return c
}

// Set parses value for key and stores it with its source (for example
// "flag --port"), replacing what was there. A value that does not parse or
// breaks the key's own rule is refused with a *ValueError and leaves the
// Conf unchanged; an unknown key is refused too. Call Validate after the
// last Set.
func (c *Conf) Set(key, value, source string) error {
	k, ok := lookup(key)
	if !ok {
		what, hint := whyUnknown(key)
		if hint != "" {
			what += "; " + hint
		}
		return fmt.Errorf("config: %s (from %s): %s", key, source, what)
	}
	return c.set(k, key, value, source)
}

func (c *Conf) set(k *key, name, value, source string) error {
	value = strings.TrimSpace(value)
	v, err := k.typ.parse(value, k.enum)
	if err == nil && k.check != nil {
		err = k.check(v)
	}
	if err != nil {
		return &ValueError{Key: name, Value: k.mask(value), Source: source, Reason: err.Error()}
	}
	c.vals[name] = setting{raw: value, source: source, val: v}
	return nil
}

// Validate checks the rules that involve several keys, and returns one
// error listing every problem, or nil.
func (c *Conf) Validate() error {
	var errs []error
	if c.String(RecoveryMode) == RecoveryZooKeeper && c.String(ZooKeeperURL) == "" {
		errs = append(errs, c.problem(ZooKeeperURL, fmt.Sprintf(
			"required when %s is %s (from %s)", RecoveryMode, RecoveryZooKeeper, c.Source(RecoveryMode))))
	}
	// Both bind aloha.master.host, so the second would fail with a less
	// helpful message at start.
	if c.Bool(MasterRESTEnabled) && c.Int(MasterRESTPort) != 0 && c.Int(MasterRESTPort) == c.Int(MasterPort) {
		errs = append(errs, c.problem(MasterRESTPort, fmt.Sprintf(
			"same port as %s (from %s); the REST server and the RPC service need one each", MasterPort, c.Source(MasterPort))))
	}
	return errors.Join(errs...)
}

func (c *Conf) problem(name, reason string) *ValueError {
	k, _ := lookup(name)
	s := c.vals[name]
	return &ValueError{Key: name, Value: k.mask(s.raw), Source: s.source, Reason: reason}
}

// Source says where the value of key came from: "default", "-D",
// "file PATH:LINE", "env NAME" or what the caller passed to Set. It is
// empty for a kind template that is not set and for an unknown key.
func (c *Conf) Source(key string) string { return c.vals[key].source }

// The getters panic when key is unknown or of another type: that is a bug
// in the caller, not a configuration problem.

// String returns the value of a string or enum key. An enum's value has the
// spelling of its definition ("ZOOKEEPER", "info") whatever the input's case.
func (c *Conf) String(key string) string {
	v, ok := c.get(key, "String", typeString, typeEnum)
	if !ok {
		return ""
	}
	return v.(string)
}

// Int returns the value of an int key.
func (c *Conf) Int(key string) int { v, _ := c.get(key, "Int", typeInt); return v.(int) }

// Bool returns the value of a bool key.
func (c *Conf) Bool(key string) bool { v, _ := c.get(key, "Bool", typeBool); return v.(bool) }

// Duration returns the value of a duration key.
func (c *Conf) Duration(key string) time.Duration {
	v, _ := c.get(key, "Duration", typeDuration)
	return v.(time.Duration)
}

// Bytes returns the value of a size key, in bytes.
func (c *Conf) Bytes(key string) int64 { v, _ := c.get(key, "Bytes", typeBytes); return v.(int64) }

// MemoryMB returns the value of a memory key, in MB.
func (c *Conf) MemoryMB(key string) int { v, _ := c.get(key, "MemoryMB", typeMemoryMB); return v.(int) }

// List returns the items of a list key; nil when it is empty. The slice is
// a copy.
func (c *Conf) List(key string) []string {
	v, _ := c.get(key, "List", typeList)
	return slices.Clone(v.([]string))
}

func (c *Conf) get(key, getter string, types ...valueType) (any, bool) {
	k, ok := lookup(key)
	if !ok {
		panic(fmt.Sprintf("config: %s(%q): unknown key", getter, key))
	}
	if !slices.Contains(types, k.typ) {
		panic(fmt.Sprintf("config: %s(%q): the key is of type %s", getter, key, k.typ))
	}
	s, ok := c.vals[key]
	return s.val, ok
}

// KindTemplates returns the command template of every kind set with
// aloha.kind.<name>.command, by name.
func (c *Conf) KindTemplates() map[string]string {
	m := make(map[string]string)
	for key, s := range c.vals {
		if name, ok := kindName(key); ok {
			m[name] = s.val.(string)
		}
	}
	return m
}

// KeyValue is one line of Dump.
type KeyValue struct {
	Key    string
	Value  string // as given; "***" for a secret that is set
	Source string
}

// Dump lists every key with its value and source, sorted by key, secrets
// masked, for --print-config style debugging. An unset secret shows as
// empty, which says that authentication is off without revealing anything.
func (c *Conf) Dump() []KeyValue {
	out := make([]KeyValue, 0, len(c.vals))
	for name, s := range c.vals {
		k, _ := lookup(name)
		out = append(out, KeyValue{Key: name, Value: k.mask(s.raw), Source: s.source})
	}
	slices.SortFunc(out, func(a, b KeyValue) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Clone returns an independent copy, so that one process can derive the
// settings of several daemons (alohad local) from one Conf.
func (c *Conf) Clone() *Conf {
	out := &Conf{vals: make(map[string]setting, len(c.vals))}
	for k, v := range c.vals {
		if l, ok := v.val.([]string); ok {
			v.val = slices.Clone(l)
		}
		out.vals[k] = v
	}
	return out
}
