package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, opts LoadOptions) (*Conf, []Warning) {
	t.Helper()
	if opts.Getenv == nil {
		opts.Getenv = env(nil)
	}
	c, warns, err := Load(opts)
	if err != nil {
		t.Fatalf("Load(%+v) = %v", opts, err)
	}
	return c, warns
}

// Each source overrides the ones before it: default < file < env < -D <
// flag. Each key below is set by several sources; the highest one wins.
func TestLoadPrecedence(t *testing.T) {
	file := writeFile(t, filepath.Join(t.TempDir(), "a.conf"), strings.Join([]string{
		"aloha.master.host=file-host",          // 1: file wins
		"aloha.master.port=1001",               // 2: env wins
		"aloha.worker.cores=1",                 // 3: -D wins
		"aloha.worker.memory=1g",               // 4: flag wins
		"aloha.worker.host=file-worker",        // 5: env wins
		"aloha.deploy.recoveryMode=FILESYSTEM", // 6: -D wins over file alone
	}, "\n"))
	c, warns := mustLoad(t, LoadOptions{
		PropertiesFile: file,
		Getenv: env(map[string]string{
			"ALOHA_MASTER_PORT":   "1002",
			"ALOHA_WORKER_CORES":  "2",
			"ALOHA_WORKER_MEMORY": "2g",
			"ALOHA_WORKER_HOST":   "env-worker",
		}),
		Overrides: []string{"aloha.worker.cores=3", "aloha.worker.memory=3g", "aloha.deploy.recoveryMode=none"},
	})
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	if err := c.Set(WorkerMemory, "4096", "flag --memory"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, value, source string
	}{
		{MasterHost, "file-host", "file " + file + ":1"},
		{MasterPort, "1002", "env ALOHA_MASTER_PORT"},
		{WorkerCores, "3", "-D"},
		{WorkerMemory, "4096", "flag --memory"},
		{WorkerHost, "env-worker", "env ALOHA_WORKER_HOST"},
		{RecoveryMode, "none", "-D"},
		{WorkerTimeout, "60s", "default"},
	}
	dump := map[string]KeyValue{}
	for _, kv := range c.Dump() {
		dump[kv.Key] = kv
	}
	for _, tt := range tests {
		if got, want := dump[tt.key], (KeyValue{tt.key, tt.value, tt.source}); got != want {
			t.Errorf("%s = %+v, want %+v", tt.key, got, want)
		}
	}
	if got := c.MemoryMB(WorkerMemory); got != 4096 {
		t.Errorf("MemoryMB(%s) = %d, want 4096", WorkerMemory, got)
	}
}

func TestLoadEnvironment(t *testing.T) {
	vars := map[string]string{
		"ALOHA_MASTER_HOST":      "10.0.0.1",
		"ALOHA_MASTER_PORT":      "7078",
		"ALOHA_MASTER_REST_PORT": "6067",
		"ALOHA_WORKER_HOST":      "10.0.0.2",
		"ALOHA_WORKER_PORT":      "7079",
		"ALOHA_WORKER_CORES":     "8",
		"ALOHA_WORKER_MEMORY":    "16g",
		"ALOHA_WORKER_DIR":       "/var/aloha/work",
		"ALOHA_SECRET":           "s3cret",
		"ALOHA_LOG_DIR":          "/var/log/aloha", // not a key: the launch script's
	}
	c, _ := mustLoad(t, LoadOptions{Getenv: env(vars)})
	got := map[string]string{
		"ALOHA_MASTER_HOST":      c.String(MasterHost),
		"ALOHA_MASTER_PORT":      strconv.Itoa(c.Int(MasterPort)),
		"ALOHA_MASTER_REST_PORT": strconv.Itoa(c.Int(MasterRESTPort)),
		"ALOHA_WORKER_HOST":      c.String(WorkerHost),
		"ALOHA_WORKER_PORT":      strconv.Itoa(c.Int(WorkerPort)),
		"ALOHA_WORKER_CORES":     strconv.Itoa(c.Int(WorkerCores)),
		"ALOHA_WORKER_MEMORY":    strconv.Itoa(c.MemoryMB(WorkerMemory)/1024) + "g",
		"ALOHA_WORKER_DIR":       c.String(WorkerDir),
		"ALOHA_SECRET":           c.String(AuthenticateSecret),
		"ALOHA_LOG_DIR":          "/var/log/aloha",
	}
	if !reflect.DeepEqual(got, vars) {
		t.Errorf("values read from the environment = %v, want %v", got, vars)
	}
	if got := c.Source(WorkerCores); got != "env ALOHA_WORKER_CORES" {
		t.Errorf("Source(%s) = %q, want env ALOHA_WORKER_CORES", WorkerCores, got)
	}
}

func TestLoadDefaultFile(t *testing.T) {
	confDir, home := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(confDir, DefaultFileName), "aloha.worker.cores=1")
	writeFile(t, filepath.Join(home, "conf", DefaultFileName), "aloha.worker.cores=2")
	emptyDir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		want int
	}{
		{"ALOHA_CONF_DIR first", map[string]string{"ALOHA_CONF_DIR": confDir, "ALOHA_HOME": home}, 1},
		{"ALOHA_HOME/conf", map[string]string{"ALOHA_HOME": home}, 2},
		// As in Spark, ALOHA_CONF_DIR alone decides when it is set.
		{"ALOHA_CONF_DIR without the file", map[string]string{"ALOHA_CONF_DIR": emptyDir, "ALOHA_HOME": home}, 0},
		{"ALOHA_HOME without the file", map[string]string{"ALOHA_HOME": emptyDir}, 0},
		{"neither", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := mustLoad(t, LoadOptions{Getenv: env(tt.env)})
			if got := c.Int(WorkerCores); got != tt.want {
				t.Errorf("Int(%s) = %d, want %d (from %s)", WorkerCores, got, tt.want, c.Source(WorkerCores))
			}
		})
	}
	// An explicit file replaces the default one.
	explicit := writeFile(t, filepath.Join(t.TempDir(), "x.conf"), "aloha.worker.cores=3")
	c, _ := mustLoad(t, LoadOptions{PropertiesFile: explicit, Getenv: env(map[string]string{"ALOHA_CONF_DIR": confDir})})
	if got := c.Int(WorkerCores); got != 3 {
		t.Errorf("with --properties-file, Int(%s) = %d, want 3", WorkerCores, got)
	}
}

func TestLoadMissingExplicitFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.conf")
	_, _, err := Load(LoadOptions{PropertiesFile: path, Getenv: env(nil)})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "--properties-file") {
		t.Errorf("Load with a missing --properties-file = %v, want an error naming it", err)
	}
}

func TestLoadWarnings(t *testing.T) {
	file := writeFile(t, filepath.Join(t.TempDir(), "a.conf"), strings.Join([]string{
		"aloha.worker.timout=30s",
		"aloha.worker.cores=1",
		"spark.master=spark://x:7077",
		"aloha.worker.cores=2",
		"aloha.kind.spark.cmd=x",
		"aloha.totally.different=1",
		"aloha.deploy.recoverymode=NONE",
	}, "\n"))
	c, warns := mustLoad(t, LoadOptions{
		PropertiesFile: file,
		Overrides:      []string{"aloha.log.level=debug", "aloha.log.level=warn", "aloha.master.hots=x"},
	})
	src := "file " + file
	want := []Warning{
		{"aloha.worker.cores", src + ":4", "set twice in the file, on lines 2 and 4; line 4 wins"},
		{"aloha.worker.timout", src + ":1", "unknown key, ignored; did you mean aloha.worker.timeout?"},
		{"spark.master", src + ":3", "not an aloha.* key, ignored"},
		{"aloha.kind.spark.cmd", src + ":5", "unknown key, ignored; application kind templates are aloha.kind.<name>.command"},
		{"aloha.totally.different", src + ":6", "unknown key, ignored"},
		{"aloha.deploy.recoverymode", src + ":7", "unknown key, ignored; did you mean aloha.deploy.recoveryMode?"},
		{"aloha.log.level", "-D", "given twice with -D; the later value wins"},
		{"aloha.master.hots", "-D", "unknown key, ignored; did you mean aloha.master.host?"},
	}
	if !reflect.DeepEqual(warns, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", warningLines(warns), warningLines(want))
	}
	if got := c.Int(WorkerCores); got != 2 {
		t.Errorf("Int(%s) = %d, want 2 (the later line)", WorkerCores, got)
	}
	if got := c.String(LogLevel); got != "warn" {
		t.Errorf("String(%s) = %q, want warn (the later -D)", LogLevel, got)
	}
	if got, want := warns[1].String(), "config: aloha.worker.timout (from "+src+":1): unknown key, ignored; did you mean aloha.worker.timeout?"; got != want {
		t.Errorf("Warning.String() = %q, want %q", got, want)
	}
}

func warningLines(ws []Warning) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString("\t" + w.String() + "\n")
	}
	return b.String()
}

// Load reports every problem at once, each with key, value and source.
func TestLoadErrors(t *testing.T) {
	file := writeFile(t, filepath.Join(t.TempDir(), "a.conf"), strings.Join([]string{
		"aloha.master.port=http",
		"=orphan",
		"aloha.worker.timeout=1h", // overridden by -D, so not checked
		"aloha.authenticate.secret=s3cret",
		"aloha.deploy.recoveryMode=zookeeper",
	}, "\n"))
	_, _, err := Load(LoadOptions{
		PropertiesFile: file,
		Getenv:         env(map[string]string{"ALOHA_WORKER_CORES": "many"}),
		Overrides: []string{
			"aloha.worker.timeout=abc",
			"aloha.authenticate.secret:s3cret",
			"aloha.rpc.maxFrameSize=2g",
		},
	})
	if err == nil {
		t.Fatal("Load succeeded, want errors")
	}
	want := []string{
		"config: " + file + ":2: line has no key",
		`config: aloha.master.port = "http" (from file ` + file + `:1): not an integer`,
		`config: aloha.worker.cores = "many" (from env ALOHA_WORKER_CORES): not an integer`,
		`config: aloha.worker.timeout = "abc" (from -D): not a duration (want e.g. 60s or 60)`,
		`config: -D "aloha.authenticate.secret***": want -Dkey=value`,
		`config: aloha.rpc.maxFrameSize = "2g" (from -D): must be between 1 KiB and 1 GiB`,
		`config: aloha.deploy.zookeeper.url = "" (from default): required when aloha.deploy.recoveryMode is ZOOKEEPER (from file ` + file + `:5)`,
	}
	if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("Load error:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Load error reveals the secret: %v", err)
	}
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Key != MasterPort {
		t.Errorf("errors.As(*ValueError) = %+v, want the first bad value, %s", ve, MasterPort)
	}
}

func TestLoadMalformedOverride(t *testing.T) {
	for _, arg := range []string{"aloha.worker.timeout", "=30s", "  =x", ""} {
		_, _, err := Load(LoadOptions{Overrides: []string{arg}, Getenv: env(nil)})
		if err == nil || !strings.Contains(err.Error(), `-D "`+arg+`"`) {
			t.Errorf("Load(-D %q) = %v, want an error naming it", arg, err)
		}
	}
	c, _ := mustLoad(t, LoadOptions{Overrides: []string{" aloha.worker.dir = /a=b "}})
	if got := c.String(WorkerDir); got != "/a=b" {
		t.Errorf("-D with '=' in the value: String(%s) = %q, want /a=b", WorkerDir, got)
	}
}

func TestLogDir(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"ALOHA_LOG_DIR": "/var/log/aloha", "ALOHA_HOME": "/opt/aloha"}, "/var/log/aloha"},
		{map[string]string{"ALOHA_HOME": "/opt/aloha"}, "/opt/aloha/logs"},
		{nil, "logs"},
	}
	for _, tt := range tests {
		if got := LogDir(env(tt.env)); got != tt.want {
			t.Errorf("LogDir(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}
