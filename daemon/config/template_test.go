package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite conf/aloha-default.conf.template from the table")

var templatePath = filepath.Join("..", "..", "conf", "aloha-default.conf.template")

const templateHeader = `# Aloha configuration: every key with its default and what it does.
#
# Every line of this file is a comment, so it changes nothing. Copy it to
# aloha-default.conf in $ALOHA_CONF_DIR or $ALOHA_HOME/conf (or name it with
# --properties-file) and uncomment the keys you change.
#
# Syntax: key=value, key: value or key value, one per line; a line starting
# with # or ! is a comment; a line ending in \ continues on the next one.
# Precedence: defaults < this file < environment variables < -Dkey=value
# < command-line flags.
#
# Generated from daemon/config/keys.go; do not edit. Regenerate with
#   go test ./daemon/config -run TestTemplate -update
`

// template renders the conf template from the table.
func template() string {
	var b strings.Builder
	b.WriteString(templateHeader)
	for _, k := range append(table[:len(table):len(table)], kindKey) {
		fmt.Fprintf(&b, "\n# %s\n# %s\n# %s=%s\n", k.doc, typeNote(k), k.name, k.def)
	}
	return b.String()
}

func typeNote(k key) string {
	note := map[valueType]string{
		typeString:   "string",
		typeInt:      "integer",
		typeBool:     "true or false",
		typeDuration: "duration: 60s, 1h30m, or a number of seconds",
		typeBytes:    "size: 16m, 1g, 1024k, or a number of bytes",
		typeMemoryMB: "memory: 2g, 512m, or a number of MB",
		typeEnum:     "one of " + strings.Join(k.enum, ", ") + " (any case)",
		typeList:     "comma-separated list",
	}[k.typ]
	if k.env != "" {
		note += "; environment variable " + k.env
	}
	if k.secret {
		note += "; secret, never printed"
	}
	return note
}

func TestTemplate(t *testing.T) {
	want := template()
	if *update {
		if err := os.MkdirAll(filepath.Dir(templatePath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(templatePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./daemon/config -run TestTemplate -update)", err)
	}
	got := string(data)
	// Every key with its default, for a readable failure.
	for _, k := range table {
		if line := "# " + k.name + "=" + k.def + "\n"; !strings.Contains(got, line) {
			t.Errorf("%s lacks %q", templatePath, line)
		}
	}
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			g, w := at(gl, i), at(wl, i)
			if g != w {
				t.Fatalf("%s disagrees with the table at line %d:\n got: %q\nwant: %q\nRegenerate with: go test ./daemon/config -run TestTemplate -update",
					templatePath, i+1, g, w)
			}
		}
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "<end of file>"
}

// The template documents; it must not configure anything.
func TestTemplateIsNoOp(t *testing.T) {
	props, err := parseProperties(template(), "template")
	if err != nil || len(props) != 0 {
		t.Errorf("parsing the template = %+v, %v; want nothing", props, err)
	}
}
