package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []property
	}{
		{"equals", "a.b=c", []property{{"a.b", "c", 1}}},
		{"colon", "a.b: c", []property{{"a.b", "c", 1}}},
		{"whitespace", "a.b   c d", []property{{"a.b", "c d", 1}}},
		{"tab and equals", "a.b\t=\tc", []property{{"a.b", "c", 1}}},
		{"surrounding whitespace", "   a.b  =  c  \t", []property{{"a.b", "c", 1}}},
		{"empty value", "a.b=\nc.d\ne.f:", []property{{"a.b", "", 1}, {"c.d", "", 2}, {"e.f", "", 3}}},
		{"value keeps separators", "a=b=c:d e", []property{{"a", "b=c:d e", 1}}},
		{"second separator is value", "a = =b", []property{{"a", "=b", 1}}},
		{"comments and blanks", "# x=y\n! x=y\n\n   \n  # indented\na=1", []property{{"a", "1", 6}}},
		{"hash inside value", "a=b # not a comment", []property{{"a", "b # not a comment", 1}}},
		{"continuation", "a=one, \\\n    two, \\\n\tthree\nb=2", []property{{"a", "one, two, three", 1}, {"b", "2", 4}}},
		{"continuation at end of file", "a=x\\", []property{{"a", "x", 1}}},
		{"continuation then blank line", "a=x\\\n\nb=y", []property{{"a", "x", 1}, {"b", "y", 3}}},
		{"escaped backslash does not continue", "a=c:\\\\\nb=y", []property{{"a", `c:\`, 1}, {"b", "y", 2}}},
		{"three backslashes continue", "a=x\\\\\\\ny", []property{{"a", `x\y`, 1}}},
		{"comment line does not continue", "# x\\\na=1", []property{{"a", "1", 2}}},
		{"continued line starting with hash", "a=x\\\n#y", []property{{"a", "x#y", 1}}},
		{"escapes in key", `a\=b\:c\ d=v`, []property{{"a=b:c d", "v", 1}}},
		{"escapes in value", `a=t\tn\nr\rf\fq\q\\`, []property{{"a", "t\tn\nr\rf\fqq\\", 1}}},
		{"unicode escapes", `a=\u00e9\u20AC\uD83D\uDE00`, []property{{"a", "é€😀", 1}}},
		{"escaped leading space is trimmed like Spark", `a=\  x`, []property{{"a", "x", 1}}},
		{"CRLF and CR", "a=1\r\nb=2\rc=3", []property{{"a", "1", 1}, {"b", "2", 2}, {"c", "3", 3}}},
		{"BOM", "\uFEFFa=1", []property{{"a", "1", 1}}},
		{"duplicates kept in order", "a=1\na=2", []property{{"a", "1", 1}, {"a", "2", 2}}},
		{"utf-8 value", "a=héllo wörld", []property{{"a", "héllo wörld", 1}}},
		{"empty file", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProperties(tt.in, "f.conf")
			if err != nil {
				t.Fatalf("parseProperties(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseProperties(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParsePropertiesErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // each a line of the error
	}{
		{"no key", "a=1\n=x", []string{"config: f.conf:2: line has no key"}},
		{"colon without key", "  : x", []string{"config: f.conf:1: line has no key"}},
		{"short unicode escape", `a=\u12`, []string{`config: f.conf:1: malformed \uXXXX escape`}},
		{"bad hex", `a=\uzzzz`, []string{`config: f.conf:1: malformed \uXXXX escape`}},
		{"lone surrogate", `a=\uD83Dx`, []string{`config: f.conf:1: \u escape is half of a surrogate pair`}},
		{"every bad line", "=a\nok=1\n:b\\\n  more", []string{
			"config: f.conf:1: line has no key",
			"config: f.conf:3: line has no key",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseProperties(tt.in, "f.conf")
			if err == nil {
				t.Fatalf("parseProperties(%q) succeeded, want an error", tt.in)
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseProperties(%q) error = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// formatProperty writes key and value as one line that parseProperties
// reads back to the same pair.
func formatProperty(key, value string) string {
	var b strings.Builder
	if rest, ok := strings.CutPrefix(key, "\uFEFF"); ok {
		b.WriteString(`\uFEFF`) // a raw one would be taken for a BOM
		key = rest
	}
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '\\', '=', ':', ' ':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '#', '!':
			if i == 0 && b.Len() == 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		default:
			b.WriteString(escapeControl(c))
		}
	}
	b.WriteByte('=')
	for i := 0; i < len(value); i++ {
		if c := value[i]; c == '\\' {
			b.WriteString(`\\`)
		} else {
			b.WriteString(escapeControl(c))
		}
	}
	return b.String()
}

func escapeControl(c byte) string {
	switch c {
	case '\t':
		return `\t`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	}
	return string([]byte{c})
}

func FuzzParseProperties(f *testing.F) {
	f.Add("# Aloha\naloha.master.host=10.0.0.5\naloha.master.port 7077\naloha.worker.cores: 4\n")
	f.Add("aloha.extraListeners = log, \\\n    webhook\n! comment\n\naloha.worker.dir=C:\\\\aloha\\\\work\n")
	f.Add("aloha.kind.spark.command=spark-submit --class {entryPoint} {args}\r\naloha.deploy.recoveryMode=ZOOKEEPER\r\n")
	f.Add("\uFEFFaloha.log.level=debug\naloha.log.level=info\n")
	f.Add(`key\ with\ spaces\=and\:colons = value \u00e9\uD83D\uDE00 \\ end`)
	f.Add("a=b\\\n")
	f.Add("=x\n")
	f.Fuzz(func(t *testing.T, in string) {
		props, err := parseProperties(in, "fuzz.conf")
		if err != nil {
			return
		}
		var lines []string
		for _, p := range props {
			if p.key == "" {
				t.Fatalf("parseProperties(%q) returned an empty key", in)
			}
			lines = append(lines, formatProperty(p.key, p.value))
		}
		out := strings.Join(lines, "\n")
		again, err := parseProperties(out, "fuzz.conf")
		if err != nil {
			t.Fatalf("formatted %q as %q, which does not parse: %v", in, out, err)
		}
		if len(again) != len(props) {
			t.Fatalf("formatted %q as %q: %d properties, want %d", in, out, len(again), len(props))
		}
		for i := range props {
			if again[i].key != props[i].key || again[i].value != props[i].value {
				t.Errorf("formatted %q as %q: property %d = %q=%q, want %q=%q",
					in, out, i, again[i].key, again[i].value, props[i].key, props[i].value)
			}
		}
	})
}
