package config

import (
	"fmt"
	"strings"
	"time"
)

// Names of the known keys. Other packages use these instead of repeating
// the strings.
const (
	ExtraListeners = "aloha.extraListeners"

	RecoveryMode            = "aloha.deploy.recoveryMode"
	RecoveryDirectory       = "aloha.deploy.recoveryDirectory"
	ZooKeeperURL            = "aloha.deploy.zookeeper.url"
	ZooKeeperDir            = "aloha.deploy.zookeeper.dir"
	ZooKeeperSessionTimeout = "aloha.deploy.zookeeper.sessionTimeout"

	MasterHost        = "aloha.master.host"
	MasterPort        = "aloha.master.port"
	MasterRESTEnabled = "aloha.master.rest.enabled"
	MasterRESTPort    = "aloha.master.rest.port"

	WorkerHost   = "aloha.worker.host"
	WorkerPort   = "aloha.worker.port"
	WorkerCores  = "aloha.worker.cores"
	WorkerMemory = "aloha.worker.memory"
	WorkerDir    = "aloha.worker.dir"

	WorkerMetricsPort = "aloha.worker.metrics.port"

	WorkerTimeout              = "aloha.worker.timeout"
	DeadWorkerPersistence      = "aloha.dead.worker.persistence"
	SpreadOut                  = "aloha.deploy.spreadOut"
	RetainedApplications       = "aloha.deploy.retainedApplications"
	WorkerRetainedApplications = "aloha.worker.retainedApplications"
	WorkerKillTimeout          = "aloha.worker.killTimeout"
	WorkerCleanupEnabled       = "aloha.worker.cleanup.enabled"
	WorkerCleanupInterval      = "aloha.worker.cleanup.interval"
	WorkerCleanupAppDataTTL    = "aloha.worker.cleanup.appDataTtl"

	RPCMaxFrameSize     = "aloha.rpc.maxFrameSize"
	RPCHandshakeTimeout = "aloha.rpc.handshakeTimeout"
	RPCIdleTimeout      = "aloha.rpc.idleTimeout"
	RPCAskTimeout       = "aloha.rpc.askTimeout"

	AuthenticateSecret    = "aloha.authenticate.secret"
	SecurityAllowInsecure = "aloha.security.allowInsecure"

	WebhookURL          = "aloha.listener.webhook.url"
	WebhookTimeout      = "aloha.listener.webhook.timeout"
	WebhookRetries      = "aloha.listener.webhook.retries"
	ExecListenerCommand = "aloha.listener.exec.command"
	ExecListenerTimeout = "aloha.listener.exec.timeout"

	LogLevel  = "aloha.log.level"
	LogFormat = "aloha.log.format"
)

// Values of RecoveryMode, as String returns them.
const (
	RecoveryNone       = "NONE"
	RecoveryFilesystem = "FILESYSTEM"
	RecoveryZooKeeper  = "ZOOKEEPER"
)

// Application kind templates are the one family of keys not listed by name:
// aloha.kind.<name>.command.
const (
	kindPrefix = "aloha.kind."
	kindSuffix = ".command"
)

// KindCommand returns the key holding the command template of kind name.
func KindCommand(name string) string { return kindPrefix + name + kindSuffix }

// key describes one known key. The table below is the only list of keys:
// defaults, parsing, validation, environment variables and the template
// file all come from it.
type key struct {
	name   string
	typ    valueType
	def    string
	doc    string
	env    string   // environment variable that sets it, if any
	enum   []string // allowed values of an enum, in their canonical spelling
	secret bool     // never shown in errors or dumps
	check  func(v any) error
}

var table = []key{
	{name: ExtraListeners, typ: typeList, doc: "Event listeners the master starts, comma-separated: log, webhook, exec (see aloha.listener.*); a slow or failing one never holds up scheduling."},

	{name: RecoveryMode, typ: typeEnum, def: RecoveryNone, enum: []string{RecoveryNone, RecoveryFilesystem, RecoveryZooKeeper},
		doc: "How a master recovers state and elects a leader: NONE, FILESYSTEM (aloha.deploy.recoveryDirectory) or ZOOKEEPER."},
	{name: RecoveryDirectory, typ: typeString, def: "/tmp/recovery", check: nonEmpty,
		doc: "Directory where FILESYSTEM recovery keeps state and holds the leader lock; shared by all masters."},
	{name: ZooKeeperURL, typ: typeString,
		doc: "ZooKeeper servers (host:port,host:port) for ZOOKEEPER recovery; required in that mode."},
	{name: ZooKeeperDir, typ: typeString, def: "/aloha", check: nonEmpty,
		doc: "ZooKeeper path under which ZOOKEEPER recovery keeps state and elects the leader."},
	{name: ZooKeeperSessionTimeout, typ: typeDuration, def: "10s", check: positive,
		doc: "ZooKeeper session timeout; a master that loses its session loses leadership at once."},

	{name: MasterHost, typ: typeString, def: "127.0.0.1", env: "ALOHA_MASTER_HOST",
		doc: "Address the master binds to and advertises."},
	{name: MasterPort, typ: typeInt, def: "7077", env: "ALOHA_MASTER_PORT", check: between(0, 65535),
		doc: "Port of the master's RPC service (0 = any free port)."},
	// The seed README says false; true because its walkthrough curls port
	// 6066 without configuring anything.
	{name: MasterRESTEnabled, typ: typeBool, def: "true",
		doc: "Serve the REST submission API (true by default so the README's curl examples work as written)."},
	{name: MasterRESTPort, typ: typeInt, def: "6066", env: "ALOHA_MASTER_REST_PORT", check: between(0, 65535),
		doc: "Port of the REST submission API (0 = any free port)."},

	{name: WorkerHost, typ: typeString, def: "127.0.0.1", env: "ALOHA_WORKER_HOST",
		doc: "Address the worker binds to and advertises."},
	{name: WorkerPort, typ: typeInt, def: "0", env: "ALOHA_WORKER_PORT", check: between(0, 65535),
		doc: "Port of the worker's RPC service (0 = any free port)."},
	{name: WorkerCores, typ: typeInt, def: "0", env: "ALOHA_WORKER_CORES", check: atLeast(0),
		doc: "Cores the worker offers to applications (0 = all CPUs of the machine)."},
	{name: WorkerMemory, typ: typeMemoryMB, def: "0", env: "ALOHA_WORKER_MEMORY", check: atLeast(0),
		doc: "Memory the worker offers, in MB or with a unit like 2g (0 = machine memory minus 1 GiB, at least 1 GiB)."},
	{name: WorkerDir, typ: typeString, def: "work", env: "ALOHA_WORKER_DIR", check: nonEmpty,
		doc: "Directory holding one directory per application, relative to the current directory unless absolute."},
	{name: WorkerMetricsPort, typ: typeInt, def: "8081", check: between(-1, 65535),
		doc: "Port of the worker's Prometheus /metrics on aloha.worker.host, behind aloha.authenticate.secret when set (0 = any free port, -1 = off). When the default is taken, a free port is used with a warning; alohad local turns it off for its workers unless set to 0."},

	{name: WorkerTimeout, typ: typeDuration, def: "60s", check: positive,
		doc: "A worker silent this long is declared dead; workers heartbeat every quarter of it."},
	{name: DeadWorkerPersistence, typ: typeInt, def: "15", check: atLeast(1),
		doc: "Dead workers stay listed for this many worker timeouts, then are forgotten."},
	{name: SpreadOut, typ: typeBool, def: "true",
		doc: "Place each application on the worker with the most free cores (true) or pack workers full (false)."},
	{name: RetainedApplications, typ: typeInt, def: "200", check: atLeast(1),
		doc: "Completed applications the master keeps for status queries."},
	{name: WorkerRetainedApplications, typ: typeInt, def: "200", check: atLeast(1),
		doc: "Completed applications a worker keeps for status queries."},
	{name: WorkerKillTimeout, typ: typeDuration, def: "10s", check: positive,
		doc: "Grace period between SIGTERM and SIGKILL when an application is killed."},
	{name: WorkerCleanupEnabled, typ: typeBool, def: "false",
		doc: "Periodically delete the directories of applications that stopped long ago."},
	{name: WorkerCleanupInterval, typ: typeDuration, def: "30m", check: positive,
		doc: "How often a worker looks for application directories to delete."},
	{name: WorkerCleanupAppDataTTL, typ: typeDuration, def: "168h", check: positive,
		doc: "Age after which a stopped application's directory is deleted, when cleanup is enabled."},

	{name: RPCMaxFrameSize, typ: typeBytes, def: "16m", check: bytesBetween(1<<10, 1<<30),
		doc: "Largest RPC frame accepted, e.g. 16m (1 KiB to 1 GiB)."},
	{name: RPCHandshakeTimeout, typ: typeDuration, def: "10s", check: positive,
		doc: "Time allowed for the handshake of a new RPC connection."},
	{name: RPCIdleTimeout, typ: typeDuration, def: "2m", check: positive,
		doc: "An RPC connection without traffic for this long is closed."},
	{name: RPCAskTimeout, typ: typeDuration, def: "30s", check: positive,
		doc: "Default deadline of an RPC request awaiting a reply."},

	{name: AuthenticateSecret, typ: typeString, env: "ALOHA_SECRET", secret: true,
		doc: "Shared secret every RPC peer and REST caller must prove."},
	{name: SecurityAllowInsecure, typ: typeBool, def: "false",
		doc: "Allow binding a non-loopback address without aloha.authenticate.secret."},

	{name: WebhookURL, typ: typeString,
		doc: "URL the webhook listener POSTs each event to, as JSON."},
	{name: WebhookTimeout, typ: typeDuration, def: "5s", check: positive,
		doc: "Deadline of one webhook POST."},
	{name: WebhookRetries, typ: typeInt, def: "3", check: atLeast(0),
		doc: "How many times a webhook POST that met a network error or a 5xx answer is tried again, with a doubling delay (a 4xx is not)."},
	{name: ExecListenerCommand, typ: typeString,
		doc: "Command the exec listener runs with /bin/sh -c for each event, with the event in ALOHA_EVENT_* environment variables."},
	{name: ExecListenerTimeout, typ: typeDuration, def: "30s", check: positive,
		doc: "Deadline of one run of the exec listener's command; its process group is killed when it passes."},

	{name: LogLevel, typ: typeEnum, def: "info", enum: []string{"debug", "info", "warn", "error"},
		doc: "Log level: debug, info, warn or error."},
	{name: LogFormat, typ: typeEnum, def: "text", enum: []string{"text", "json"},
		doc: "Log format: text or json."},
}

// kindKey stands for every aloha.kind.<name>.command key.
var kindKey = key{
	name: KindCommand("<name>"), typ: typeString, check: nonEmpty,
	doc: "Command template of application kind <name> (letters, digits, '.', '_', '-'), e.g. spark-submit ... {args}.",
}

var byName = func() map[string]*key {
	m := make(map[string]*key, len(table))
	for i := range table {
		m[table[i].name] = &table[i]
	}
	return m
}()

// lookup finds the description of name, a table key or a kind template.
func lookup(name string) (*key, bool) {
	if k, ok := byName[name]; ok {
		return k, true
	}
	if _, ok := kindName(name); ok {
		return &kindKey, true
	}
	return nil, false
}

// kindName returns <name> of aloha.kind.<name>.command.
func kindName(key string) (string, bool) {
	if !strings.HasPrefix(key, kindPrefix) || !strings.HasSuffix(key, kindSuffix) ||
		len(key) <= len(kindPrefix)+len(kindSuffix) {
		return "", false
	}
	name := key[len(kindPrefix) : len(key)-len(kindSuffix)]
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '.' || r == '_' || r == '-'
		if !ok {
			return "", false
		}
	}
	return name, true
}

// mask hides the value of a secret key.
func (k *key) mask(value string) string {
	if k.secret && value != "" {
		return masked
	}
	return value
}

const masked = "***"

// Validation rules, applied to parsed values.

func nonEmpty(v any) error {
	if v.(string) == "" {
		return fmt.Errorf("must not be empty")
	}
	return nil
}

func positive(v any) error {
	if v.(time.Duration) <= 0 {
		return fmt.Errorf("must be greater than zero")
	}
	return nil
}

func between(lo, hi int) func(any) error {
	return func(v any) error {
		if n := v.(int); n < lo || n > hi {
			return fmt.Errorf("must be between %d and %d", lo, hi)
		}
		return nil
	}
}

func atLeast(lo int) func(any) error {
	return func(v any) error {
		if v.(int) < lo {
			return fmt.Errorf("must be at least %d", lo)
		}
		return nil
	}
}

func bytesBetween(lo, hi int64) func(any) error {
	return func(v any) error {
		if n := v.(int64); n < lo || n > hi {
			return fmt.Errorf("must be between %s and %s", formatBytes(lo), formatBytes(hi))
		}
		return nil
	}
}
