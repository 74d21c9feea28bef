package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultFileName is the properties file looked up in ALOHA_CONF_DIR, or
// in ALOHA_HOME/conf.
const DefaultFileName = "aloha-default.conf"

// LoadOptions says where Load reads from.
type LoadOptions struct {
	// PropertiesFile is the --properties-file path; it must exist. Empty
	// means the default file, which may be absent.
	PropertiesFile string
	// Overrides are the -D arguments without the -D: "key=value".
	Overrides []string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// Load builds a Conf from the defaults, the properties file, the
// environment and the -D overrides, in that order of precedence, then
// validates it. Problems that do not stop a daemon come back as warnings,
// the others as one error listing all of them, with a nil Conf. The caller
// applies explicit flags with Set and calls Validate again.
func Load(opts LoadOptions) (*Conf, []Warning, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	l := &loader{conf: Defaults()}
	if path, explicit := propertiesFile(opts.PropertiesFile, getenv); path != "" {
		l.file(path, explicit)
	}
	l.env(getenv)
	l.overrides(opts.Overrides)
	if err := l.conf.Validate(); err != nil {
		l.errs = append(l.errs, err)
	}
	if len(l.errs) > 0 {
		return nil, l.warns, errors.Join(l.errs...)
	}
	return l.conf, l.warns, nil
}

// propertiesFile returns the file to read and whether it was named
// explicitly. Like Spark, it looks only in ALOHA_CONF_DIR when that is set.
func propertiesFile(explicit string, getenv func(string) string) (string, bool) {
	if explicit != "" {
		return explicit, true
	}
	if dir := getenv("ALOHA_CONF_DIR"); dir != "" {
		return filepath.Join(dir, DefaultFileName), false
	}
	if home := getenv("ALOHA_HOME"); home != "" {
		return filepath.Join(home, "conf", DefaultFileName), false
	}
	return "", false
}

// LogDir is where the daemons' logs go: ALOHA_LOG_DIR, else
// ALOHA_HOME/logs, else logs in the current directory, as the launch
// script decides.
func LogDir(getenv func(string) string) string {
	if dir := getenv("ALOHA_LOG_DIR"); dir != "" {
		return dir
	}
	if home := getenv("ALOHA_HOME"); home != "" {
		return filepath.Join(home, "logs")
	}
	return "logs"
}

// loader collects every problem of one Load instead of stopping at the
// first, so an operator fixes a file in one go.
type loader struct {
	conf  *Conf
	warns []Warning
	errs  []error
}

func (l *loader) apply(key, value, source string) {
	k, ok := lookup(key)
	if !ok {
		l.warns = append(l.warns, unknownKey(key, source))
		return
	}
	if err := l.conf.set(k, key, value, source); err != nil {
		l.errs = append(l.errs, err)
	}
}

func (l *loader) file(path string, explicit bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return
		}
		origin := "default properties file"
		if explicit {
			origin = "--properties-file"
		}
		l.errs = append(l.errs, fmt.Errorf("config: %s: %w", origin, err))
		return
	}
	props, err := parseProperties(string(data), path)
	if err != nil {
		l.errs = append(l.errs, err)
	}
	// The last occurrence of a key wins, as in Java; only its value is
	// checked, since the earlier ones are never used.
	last := make(map[string]int, len(props))
	for i, p := range props {
		if j, ok := last[p.key]; ok {
			l.warns = append(l.warns, Warning{Key: p.key, Source: fileSource(path, p.line),
				Message: fmt.Sprintf("set twice in the file, on lines %d and %d; line %d wins", props[j].line, p.line, p.line)})
		}
		last[p.key] = i
	}
	for i, p := range props {
		if last[p.key] == i {
			l.apply(p.key, p.value, fileSource(path, p.line))
		}
	}
}

func fileSource(path string, line int) string { return fmt.Sprintf("file %s:%d", path, line) }

func (l *loader) env(getenv func(string) string) {
	for i := range table {
		k := &table[i]
		if k.env == "" {
			continue
		}
		// An empty variable counts as unset, as in the launch scripts.
		if v := getenv(k.env); v != "" {
			l.apply(k.name, v, "env "+k.env)
		}
	}
}

func (l *loader) overrides(args []string) {
	seen := make(map[string]bool, len(args))
	for _, arg := range args {
		key, value, ok := strings.Cut(arg, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			l.errs = append(l.errs, fmt.Errorf("config: -D %q: want -Dkey=value", maskOverride(arg)))
			continue
		}
		if seen[key] {
			l.warns = append(l.warns, Warning{Key: key, Source: SourceOverride,
				Message: "given twice with -D; the later value wins"})
		}
		seen[key] = true
		l.apply(key, value, SourceOverride)
	}
}

// maskOverride hides what follows a secret key's name in a malformed -D,
// in case the operator typed "aloha.authenticate.secret:s3cret".
func maskOverride(arg string) string {
	for i := range table {
		k := &table[i]
		if j := strings.Index(arg, k.name); k.secret && j >= 0 && len(arg) > j+len(k.name) {
			return arg[:j+len(k.name)] + masked
		}
	}
	return arg
}
