package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c := Defaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Defaults().Validate() = %v", err)
	}
	for _, k := range table {
		if got := c.Source(k.name); got != SourceDefault {
			t.Errorf("Defaults().Source(%s) = %q, want %q", k.name, got, SourceDefault)
		}
		if k.check != nil {
			if err := k.check(c.vals[k.name].val); err != nil {
				t.Errorf("default of %s = %q breaks its rule: %v", k.name, k.def, err)
			}
		}
	}
	// The seed README's table, with its one deliberate deviation.
	if got := c.String(RecoveryMode); got != RecoveryNone {
		t.Errorf("String(%s) = %q, want %q", RecoveryMode, got, RecoveryNone)
	}
	if got := c.String(RecoveryDirectory); got != "/tmp/recovery" {
		t.Errorf("String(%s) = %q, want /tmp/recovery", RecoveryDirectory, got)
	}
	if got := c.String(ZooKeeperDir); got != "/aloha" {
		t.Errorf("String(%s) = %q, want /aloha", ZooKeeperDir, got)
	}
	if got := c.List(ExtraListeners); got != nil {
		t.Errorf("List(%s) = %q, want nil", ExtraListeners, got)
	}
	if !c.Bool(MasterRESTEnabled) {
		t.Errorf("Bool(%s) = false, want true (the seed's curl walkthrough needs REST on)", MasterRESTEnabled)
	}
	if got := c.Int(MasterRESTPort); got != 6066 {
		t.Errorf("Int(%s) = %d, want 6066", MasterRESTPort, got)
	}
	if got := c.Duration(WorkerTimeout); got != time.Minute {
		t.Errorf("Duration(%s) = %s, want 1m", WorkerTimeout, got)
	}
	if got := c.Bytes(RPCMaxFrameSize); got != 16<<20 {
		t.Errorf("Bytes(%s) = %d, want 16 MiB", RPCMaxFrameSize, got)
	}
	if got := c.MemoryMB(WorkerMemory); got != 0 {
		t.Errorf("MemoryMB(%s) = %d, want 0", WorkerMemory, got)
	}
}

// Every rule of a single key, at and beyond its limits.
func TestSetRules(t *testing.T) {
	tests := []struct {
		key, value string
		reason     string // empty: accepted
	}{
		{MasterPort, "1", ""},
		{MasterPort, "65535", ""},
		{MasterPort, "0", ""},
		{MasterPort, "65536", "must be between 0 and 65535"},
		{MasterRESTPort, "0", ""},
		{MasterRESTPort, "-1", "must be between 0 and 65535"},
		{MasterRESTPort, "70000", "must be between 0 and 65535"},
		{WorkerPort, "0", ""},
		{WorkerPort, "65535", ""},
		{WorkerPort, "65536", "must be between 0 and 65535"},
		{WorkerCores, "0", ""},
		{WorkerCores, "-1", "must be at least 0"},
		{WorkerMemory, "0", ""},
		{WorkerMemory, "4g", ""},
		{DeadWorkerPersistence, "1", ""},
		{DeadWorkerPersistence, "0", "must be at least 1"},
		{RetainedApplications, "1", ""},
		{RetainedApplications, "0", "must be at least 1"},
		{WorkerRetainedApplications, "0", "must be at least 1"},
		{RPCMaxFrameSize, "1k", ""},
		{RPCMaxFrameSize, "1g", ""},
		{RPCMaxFrameSize, "1023", "must be between 1 KiB and 1 GiB"},
		{RPCMaxFrameSize, "1025m", "must be between 1 KiB and 1 GiB"},
		{RecoveryDirectory, "", "must not be empty"},
		{ZooKeeperDir, "", "must not be empty"},
		{WorkerDir, "", "must not be empty"},
		{ZooKeeperURL, "", ""},
		{KindCommand("spark"), "spark-submit {args}", ""},
		{KindCommand("spark"), "", "must not be empty"},
		{RecoveryMode, "zookeeper", ""},
		{RecoveryMode, "RAFT", "not one of NONE, FILESYSTEM, ZOOKEEPER"},
		{LogLevel, "DEBUG", ""},
		{LogFormat, "xml", "not one of text, json"},
	}
	for _, k := range table {
		if k.typ == typeDuration {
			tests = append(tests,
				struct{ key, value, reason string }{k.name, "1ms", ""},
				struct{ key, value, reason string }{k.name, "0", "must be greater than zero"},
				struct{ key, value, reason string }{k.name, "-1s", "must be greater than zero"})
		}
	}
	for _, tt := range tests {
		c := Defaults()
		before := c.vals[tt.key]
		err := c.Set(tt.key, tt.value, "flag --x")
		if tt.reason == "" {
			if err != nil {
				t.Errorf("Set(%s, %q) = %v, want nil", tt.key, tt.value, err)
			} else if got := c.Source(tt.key); got != "flag --x" {
				t.Errorf("after Set(%s, %q), Source = %q, want %q", tt.key, tt.value, got, "flag --x")
			}
			continue
		}
		var ve *ValueError
		if !errors.As(err, &ve) {
			t.Errorf("Set(%s, %q) = %v, want a *ValueError", tt.key, tt.value, err)
			continue
		}
		want := ValueError{Key: tt.key, Value: tt.value, Source: "flag --x", Reason: tt.reason}
		if *ve != want {
			t.Errorf("Set(%s, %q) = %+v, want %+v", tt.key, tt.value, *ve, want)
		}
		if !reflect.DeepEqual(c.vals[tt.key], before) {
			t.Errorf("Set(%s, %q) failed but changed the value to %+v", tt.key, tt.value, c.vals[tt.key])
		}
	}
}

func TestSetTrimsAndCanonicalizes(t *testing.T) {
	c := Defaults()
	for key, value := range map[string]string{RecoveryMode: " filesystem ", LogLevel: "Warn", WorkerTimeout: " 90 "} {
		if err := c.Set(key, value, "flag --x"); err != nil {
			t.Fatalf("Set(%s, %q) = %v", key, value, err)
		}
	}
	if got := c.String(RecoveryMode); got != RecoveryFilesystem {
		t.Errorf("String(%s) = %q, want %q", RecoveryMode, got, RecoveryFilesystem)
	}
	if got := c.String(LogLevel); got != "warn" {
		t.Errorf("String(%s) = %q, want warn", LogLevel, got)
	}
	if got := c.Duration(WorkerTimeout); got != 90*time.Second {
		t.Errorf("Duration(%s) = %s, want 1m30s", WorkerTimeout, got)
	}
}

func TestSetUnknownKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"aloha.worker.timout", "config: aloha.worker.timout (from flag --x): unknown key; did you mean aloha.worker.timeout?"},
		{"aloha.nothing.like.it", "config: aloha.nothing.like.it (from flag --x): unknown key"},
		{"spark.master", "config: spark.master (from flag --x): not an aloha.* key"},
	}
	for _, tt := range tests {
		err := Defaults().Set(tt.key, "1", "flag --x")
		if err == nil || err.Error() != tt.want {
			t.Errorf("Set(%s) = %v, want %q", tt.key, err, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want string // empty: valid
	}{
		{"zookeeper with url", map[string]string{RecoveryMode: "ZOOKEEPER", ZooKeeperURL: "zk1:2181,zk2:2181"}, ""},
		{"zookeeper without url", map[string]string{RecoveryMode: "zookeeper"},
			`config: aloha.deploy.zookeeper.url = "" (from default): required when aloha.deploy.recoveryMode is ZOOKEEPER (from flag --x)`},
		{"filesystem without url", map[string]string{RecoveryMode: "FILESYSTEM"}, ""},
		{"rest on the rpc port", map[string]string{MasterRESTPort: "7077"},
			`config: aloha.master.rest.port = "7077" (from flag --x): same port as aloha.master.port (from default); the REST server and the RPC service need one each`},
		{"rest off on the rpc port", map[string]string{MasterRESTPort: "7077", MasterRESTEnabled: "false"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			for k, v := range tt.set {
				if err := c.Set(k, v, "flag --x"); err != nil {
					t.Fatal(err)
				}
			}
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSecretMasked(t *testing.T) {
	c := Defaults()
	for _, kv := range c.Dump() {
		if kv.Key == AuthenticateSecret && kv.Value != "" {
			t.Errorf("Dump() shows an unset secret as %q, want empty", kv.Value)
		}
	}
	if err := c.Set(AuthenticateSecret, "s3cret", "env ALOHA_SECRET"); err != nil {
		t.Fatal(err)
	}
	if got := c.String(AuthenticateSecret); got != "s3cret" {
		t.Errorf("String(%s) = %q, want the secret itself", AuthenticateSecret, got)
	}
	var found bool
	for _, kv := range c.Dump() {
		if strings.Contains(kv.Value, "s3cret") {
			t.Errorf("Dump() reveals the secret: %+v", kv)
		}
		if kv.Key == AuthenticateSecret {
			found = true
			if want := (KeyValue{AuthenticateSecret, "***", "env ALOHA_SECRET"}); kv != want {
				t.Errorf("Dump() has %+v, want %+v", kv, want)
			}
		}
	}
	if !found {
		t.Errorf("Dump() has no %s", AuthenticateSecret)
	}
	// Any string type is accepted, so a secret can only appear in an error
	// from a rule between keys; masking is the same code path.
	if got := c.problem(AuthenticateSecret, "test").Error(); strings.Contains(got, "s3cret") || !strings.Contains(got, `"***"`) {
		t.Errorf("an error about the secret reads %q, want it masked", got)
	}
}

func TestDump(t *testing.T) {
	c := Defaults()
	if err := c.Set(KindCommand("spark"), "spark-submit {args}", "-D"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(WorkerCores, "4", "flag --cores"); err != nil {
		t.Fatal(err)
	}
	d := c.Dump()
	if len(d) != len(table)+1 {
		t.Errorf("Dump() has %d entries, want %d (the table and one kind)", len(d), len(table)+1)
	}
	for i := 1; i < len(d); i++ {
		if d[i-1].Key >= d[i].Key {
			t.Errorf("Dump() not sorted: %s before %s", d[i-1].Key, d[i].Key)
		}
	}
	want := map[string]KeyValue{
		"aloha.kind.spark.command": {"aloha.kind.spark.command", "spark-submit {args}", "-D"},
		WorkerCores:                {WorkerCores, "4", "flag --cores"},
		WorkerTimeout:              {WorkerTimeout, "60s", "default"},
	}
	for _, kv := range d {
		if w, ok := want[kv.Key]; ok && kv != w {
			t.Errorf("Dump() has %+v, want %+v", kv, w)
		}
	}
}

func TestKindTemplates(t *testing.T) {
	c := Defaults()
	if got := c.KindTemplates(); len(got) != 0 {
		t.Errorf("Defaults().KindTemplates() = %v, want none", got)
	}
	set := map[string]string{"spark": "spark-submit {args}", "flink-1.18": "flink run {args}", "a.b_c": "x"}
	for name, tmpl := range set {
		if err := c.Set(KindCommand(name), tmpl, "-D"); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.KindTemplates(); !reflect.DeepEqual(got, set) {
		t.Errorf("KindTemplates() = %v, want %v", got, set)
	}
	if got := c.String(KindCommand("absent")); got != "" {
		t.Errorf("String(%s) = %q, want empty", KindCommand("absent"), got)
	}
	for _, bad := range []string{"aloha.kind.command", "aloha.kind..command", "aloha.kind.a b.command", "aloha.kind.x/y.command", "aloha.kind.spark"} {
		if _, ok := lookup(bad); ok {
			t.Errorf("lookup(%q) found a key, want none", bad)
		}
	}
}

func TestGettersPanicOnMisuse(t *testing.T) {
	c := Defaults()
	for name, get := range map[string]func(){
		"unknown key":       func() { c.String("aloha.no.such.key") },
		"Int of a duration": func() { c.Int(WorkerTimeout) },
		"String of an int":  func() { c.String(MasterPort) },
		"Bool of a string":  func() { c.Bool(MasterHost) },
		"Bytes of memory":   func() { c.Bytes(WorkerMemory) },
		"MemoryMB of size":  func() { c.MemoryMB(RPCMaxFrameSize) },
		"List of enum":      func() { c.List(LogLevel) },
		"Duration of bool":  func() { c.Duration(SpreadOut) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			get()
		}()
	}
}

func TestListIsACopy(t *testing.T) {
	c := Defaults()
	if err := c.Set(ExtraListeners, "log,webhook", "-D"); err != nil {
		t.Fatal(err)
	}
	c.List(ExtraListeners)[0] = "changed"
	if got := c.List(ExtraListeners); !reflect.DeepEqual(got, []string{"log", "webhook"}) {
		t.Errorf("List(%s) = %q after changing a returned slice, want [log webhook]", ExtraListeners, got)
	}
}

func TestCloneIsIndependent(t *testing.T) {
	c := Defaults()
	if err := c.Set(ExtraListeners, "log,webhook", "test"); err != nil {
		t.Fatal(err)
	}
	d := c.Clone()
	if err := d.Set(WorkerCores, "3", "test"); err != nil {
		t.Fatal(err)
	}
	if c.Int(WorkerCores) != 0 || d.Int(WorkerCores) != 3 {
		t.Fatalf("cores after Set on the clone: original %d, clone %d", c.Int(WorkerCores), d.Int(WorkerCores))
	}
	if got := d.List(ExtraListeners); len(got) != 2 || got[1] != "webhook" {
		t.Fatalf("clone lost the list: %v", got)
	}
}
