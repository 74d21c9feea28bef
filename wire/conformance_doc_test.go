package wire_test

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alohasched/aloha/api"
	"github.com/alohasched/aloha/wire"
)

// ---------------------------------------------------------------------------
// The worked examples of docs/wire.md.

const docPath = "../docs/wire.md"

// docSecret is the secret of the document's example 12.2.
const docSecret = "s3cret"

// docFrames returns the byte listings of the document that are marked
// "; frame: NAME", by name.
func docFrames(t *testing.T) (map[string][]byte, string) {
	t.Helper()
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	frames := map[string][]byte{}
	var name string
	var buf []byte
	inBlock, first := false, false
	for i, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			if inBlock && name != "" {
				if _, dup := frames[name]; dup {
					t.Fatalf("%s: frame %q listed twice", docPath, name)
				}
				frames[name] = buf
			}
			inBlock, first, name, buf = !inBlock, true, "", nil
			continue
		}
		if !inBlock {
			continue
		}
		if first {
			first = false
			if n, ok := strings.CutPrefix(line, "; frame: "); ok {
				name = strings.TrimSpace(n)
				continue
			}
		}
		if name == "" {
			continue
		}
		code, _, _ := strings.Cut(line, ";")
		for _, tok := range strings.Fields(code) {
			b, err := hex.DecodeString(tok)
			if err != nil || len(b) != 1 {
				t.Fatalf("%s:%d: %q is not a hex byte", docPath, i+1, tok)
			}
			buf = append(buf, b[0])
		}
	}
	if inBlock {
		t.Fatalf("%s: unterminated code block", docPath)
	}
	return frames, doc
}

func TestConformanceDocExamples(t *testing.T) {
	frames, doc := docFrames(t)
	get := func(name string) []byte {
		t.Helper()
		b, ok := frames[name]
		if !ok {
			t.Fatalf("%s has no listing %q", docPath, name)
		}
		return b
	}
	decode := func(name string) any {
		t.Helper()
		b := get(name)
		if len(b) < 5 || int(binary.BigEndian.Uint32(b)) != len(b)-4 {
			t.Fatalf("listing %q: length prefix does not match its %d bytes", name, len(b))
		}
		v, err := decodeOne(b[4:])
		if err != nil {
			t.Fatalf("listing %q: %v", name, err)
		}
		return v
	}
	for name := range frames {
		decode(name)
	}

	// The document's welcome against a live one: same keys in the same
	// order, same values except the nonce and the address.
	sameWelcome := func(t *testing.T, live *mpMap, docName string, s *confServer) {
		t.Helper()
		want := asMap(t, docName, decode(docName))
		if !slices.Equal(live.keys, want.keys) {
			t.Fatalf("welcome keys %v, the document has %v", live.keys, want.keys)
		}
		if uintField(t, live, "version") != uintField(t, want, "version") ||
			strField(t, live, "error") != strField(t, want, "error") {
			t.Fatalf("welcome %v, the document has %v", live.vals, want.vals)
		}
		if strField(t, live, "addr") != s.addr {
			t.Fatalf("welcome addr %q, want %q", strField(t, live, "addr"), s.addr)
		}
		if len(binField(t, live, "nonce")) != 32 || len(binField(t, want, "nonce")) != 32 {
			t.Fatal("nonces must be 32 bytes")
		}
	}
	exact := func(t *testing.T, got []byte, docName string) {
		t.Helper()
		if want := get(docName); !bytes.Equal(got, want) {
			t.Fatalf("server sent\n% x\nthe document's %q is\n% x", got, docName, want)
		}
	}

	t.Run("handshake without a secret, send, ask and error reply", func(t *testing.T) {
		s := startServer(t, wire.Config{})
		c := dialRaw(t, s.addr)
		c.write(get("hello"))
		sameWelcome(t, c.readMap("welcome"), "welcome", s)
		if p := binField(t, asMap(t, "welcome", decode("welcome")), "proof"); p != nil {
			t.Fatalf("the document's welcome without a secret has proof %x", p)
		}
		c.write(get("proof"))
		raw, _ := c.readFrame()
		exact(t, raw, "result")
		c.established()
		c.write(get("send"), get("ask"))
		raw, _ = c.readFrame()
		exact(t, raw, "error-reply")
		want := []string{"Heartbeat worker-20190311221500-10.0.0.5-7078", "AppStatusRequest " + unknownAppID}
		if got := s.log(); !slices.Equal(got, want) {
			t.Fatalf("handled %q, want %q", got, want)
		}
	})

	t.Run("handshake with a secret", func(t *testing.T) {
		if !strings.Contains(doc, `"`+docSecret+`"`) {
			t.Fatalf("%s does not name the secret %q", docPath, docSecret)
		}
		secret := []byte(docSecret)
		hello := asMap(t, "hello-secret", decode("hello-secret"))
		welcome := asMap(t, "welcome-secret", decode("welcome-secret"))
		proof := asMap(t, "proof-secret", decode("proof-secret"))
		nd, na := binField(t, hello, "nonce"), binField(t, welcome, "nonce")
		if got, want := binField(t, welcome, "proof"), hmacProof(secret, acceptorLabel, nd, na); !bytes.Equal(got, want) {
			t.Fatalf("the document's acceptor proof is %x, want %x", got, want)
		}
		if got, want := binField(t, proof, "proof"), hmacProof(secret, dialerLabel, na, nd); !bytes.Equal(got, want) {
			t.Fatalf("the document's dialer proof is %x, want %x", got, want)
		}
		for _, p := range []string{
			hex.EncodeToString(hmacProof(secret, acceptorLabel, nd, na)),
			hex.EncodeToString(hmacProof(secret, dialerLabel, na, nd)),
		} {
			if !strings.Contains(doc, p) {
				t.Fatalf("%s does not give the proof %s", docPath, p)
			}
		}

		s := startServer(t, wire.Config{Secret: secret})
		for _, right := range []bool{true, false} {
			c := dialRaw(t, s.addr)
			c.write(get("hello-secret"))
			live := c.readMap("welcome")
			sameWelcome(t, live, "welcome-secret", s)
			liveNa := binField(t, live, "nonce")
			if got, want := binField(t, live, "proof"), hmacProof(secret, acceptorLabel, nd, liveNa); !hmac.Equal(got, want) {
				t.Fatalf("acceptor proof %x, want %x", got, want)
			}
			key := secret
			if !right {
				key = []byte("another secret")
			}
			c.write(proofFrame(hmacProof(key, dialerLabel, liveNa, nd)))
			raw, _ := c.readFrame()
			if right {
				exact(t, raw, "result")
			} else {
				exact(t, raw, "result-wrong-secret")
				c.expectClosed()
			}
		}
	})

	t.Run("version mismatch", func(t *testing.T) {
		s := startServer(t, wire.Config{})
		c := dialRaw(t, s.addr)
		c.write(get("hello-v2"))
		raw, _ := c.readFrame()
		exact(t, raw, "welcome-v2")
		c.expectClosed()
	})
}

// apiSamples holds one value of every message type of the api registry, by
// code, so that the document's tables can be checked against the types.
var apiSamples = map[uint16]any{
	100: api.RegisterWorker{},
	101: api.WorkerRegistered{},
	102: api.Heartbeat{},
	103: api.AppStateChanged{},
	104: api.WorkerSchedulerState{},
	110: api.ReconnectWorker{},
	111: api.MasterChanged{},
	112: api.LaunchApp{},
	113: api.KillApp{},
	120: api.SubmitApp{},
	121: api.SubmitAppResponse{},
	122: api.KillAppRequest{},
	123: api.KillAppResponse{},
	124: api.AppStatusRequest{},
	125: api.AppInfo{},
	126: api.ListAppsRequest{},
	127: api.AppList{},
	128: api.ListWorkersRequest{},
	129: api.WorkerList{},
	130: api.MasterStatusRequest{},
	131: api.MasterInfo{},
	132: api.EventsRequest{},
	133: api.EventBatch{},
	140: api.ReadLogRequest{},
	141: api.LogChunk{},
}

// docSection returns the text of doc from the heading start up to the next
// heading next.
func docSection(t *testing.T, doc, start, next string) string {
	t.Helper()
	i := strings.Index(doc, start)
	if i < 0 {
		t.Fatalf("%s has no heading %q", docPath, start)
	}
	j := strings.Index(doc[i:], next)
	if j < 0 {
		t.Fatalf("%s has no heading %q after %q", docPath, next, start)
	}
	return doc[i : i+j]
}

// structFields lists the msgpack keys of a struct type in order, a "?"
// marking optional (omitempty) ones, and the named struct types its fields
// hold.
func structFields(t reflect.Type) (keys []string, nested []reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("msgpack"), ",")
		if name == "" || name == "-" {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "omitempty") {
			name += "?"
		}
		keys = append(keys, name)
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			nested = append(nested, ft)
		}
	}
	return keys, nested
}

// TestConformanceDocMessageTables checks the document's tables of message
// types and fields against the api registry and the message types.
func TestConformanceDocMessageTables(t *testing.T) {
	_, doc := docFrames(t)
	codes := api.NewRegistry().Codes()

	// 11.1: code and type name of every message.
	rowRe := regexp.MustCompile("(?m)^\\| (\\d+) +\\| `([A-Za-z]+)` ")
	listed := map[uint16]string{}
	for _, m := range rowRe.FindAllStringSubmatch(docSection(t, doc, "### 11.1 ", "### 11.2 "), -1) {
		var code uint16
		fmt.Sscan(m[1], &code)
		listed[code] = "api." + m[2]
	}
	if !maps.Equal(listed, codes) {
		t.Errorf("message types in %s:\n%v\nin the api registry:\n%v", docPath, listed, codes)
	}

	// 11.2: the fields of every record, in order, with their optionality.
	headRe := regexp.MustCompile(`\*{1,2}([A-Z][A-Za-z]+)(?: \(\d+\))?\*{1,2}`)
	fields := map[string][]string{}
	var current []string
	for line := range strings.Lines(docSection(t, doc, "### 11.2 ", "### 11.3 ")) {
		switch {
		case strings.HasPrefix(line, "*"):
			current = nil
			for _, m := range headRe.FindAllStringSubmatch(line, -1) {
				current = append(current, m[1])
				fields[m[1]] = []string{}
			}
		case strings.HasPrefix(line, "| `"):
			cells := strings.Split(line, "|")
			key := strings.Trim(strings.TrimSpace(cells[1]), "`")
			if strings.Contains(cells[len(cells)-2], "*opt*") {
				key += "?"
			}
			for _, name := range current {
				fields[name] = append(fields[name], key)
			}
		}
	}
	seen := map[reflect.Type]bool{}
	var check func(reflect.Type)
	check = func(rt reflect.Type) {
		if seen[rt] {
			return
		}
		seen[rt] = true
		keys, nested := structFields(rt)
		got, ok := fields[rt.Name()]
		switch {
		case !ok:
			t.Errorf("%s does not describe %s (fields %v)", docPath, rt.Name(), keys)
		case !slices.Equal(got, keys):
			t.Errorf("%s: fields of %s are %v, the type has %v (\"?\": optional)", docPath, rt.Name(), got, keys)
		}
		for _, n := range nested {
			check(n)
		}
	}
	for code, name := range codes {
		sample, ok := apiSamples[code]
		if !ok {
			t.Errorf("apiSamples has no type for code %d (%s)", code, name)
			continue
		}
		if got := reflect.TypeOf(sample).String(); got != name {
			t.Errorf("apiSamples[%d] is %s, the registry has %s", code, got, name)
			continue
		}
		check(reflect.TypeOf(sample))
	}
}
