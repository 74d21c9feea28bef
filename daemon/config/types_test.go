package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseTypes(t *testing.T) {
	levels := []string{"debug", "info", "warn", "error"}
	good := []struct {
		typ  valueType
		in   string
		want any
	}{
		{typeString, "", ""},
		{typeString, "a b", "a b"},
		{typeInt, "0", 0},
		{typeInt, "-3", -3},
		{typeInt, "7077", 7077},
		{typeBool, "true", true},
		{typeBool, "TRUE", true},
		{typeBool, "yes", true},
		{typeBool, "on", true},
		{typeBool, "1", true},
		{typeBool, "False", false},
		{typeBool, "no", false},
		{typeBool, "off", false},
		{typeBool, "0", false},
		{typeDuration, "60s", 60 * time.Second},
		{typeDuration, "1h30m", 90 * time.Minute},
		{typeDuration, "250ms", 250 * time.Millisecond},
		{typeDuration, "60", 60 * time.Second},
		{typeDuration, "0", time.Duration(0)},
		{typeDuration, "-5s", -5 * time.Second}, // refused by the keys' rule, not the type
		{typeBytes, "1024", int64(1024)},
		{typeBytes, "16m", int64(16 << 20)},
		{typeBytes, "16MiB", int64(16 << 20)},
		{typeBytes, "16MB", int64(16 << 20)},
		{typeBytes, "1g", int64(1 << 30)},
		{typeBytes, "1G", int64(1 << 30)},
		{typeBytes, "1024k", int64(1 << 20)},
		{typeBytes, "100b", int64(100)},
		{typeBytes, "2 KiB", int64(2048)},
		{typeBytes, "1t", int64(1 << 40)},
		{typeMemoryMB, "1024", 1024},
		{typeMemoryMB, "0", 0},
		{typeMemoryMB, "512m", 512},
		{typeMemoryMB, "2g", 2048},
		{typeMemoryMB, "2GiB", 2048},
		{typeMemoryMB, "1048576k", 1024},
		{typeMemoryMB, "1t", 1 << 20},
		{typeEnum, "info", "info"},
		{typeEnum, "WARN", "warn"},
		{typeList, "", []string(nil)},
		{typeList, "log", []string{"log"}},
		{typeList, " log , webhook,,exec, ", []string{"log", "webhook", "exec"}},
	}
	for _, tt := range good {
		got, err := tt.typ.parse(tt.in, levels)
		if err != nil {
			t.Errorf("%s.parse(%q) error: %v", tt.typ, tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s.parse(%q) = %#v, want %#v", tt.typ, tt.in, got, tt.want)
		}
	}

	bad := []struct {
		typ  valueType
		in   string
		want string // in the reason
	}{
		{typeInt, "", "not an integer"},
		{typeInt, "12a", "not an integer"},
		{typeInt, "1.5", "not an integer"},
		{typeInt, "99999999999999999999", "not an integer"},
		{typeBool, "", "not a boolean"},
		{typeBool, "maybe", "not a boolean"},
		{typeDuration, "", "not a duration (want e.g. 60s or 60)"},
		{typeDuration, "abc", "not a duration"},
		{typeDuration, "5d", "not a duration"},
		{typeDuration, "1.5", "not a duration"},
		{typeDuration, "9999999999999", "not a duration"},
		{typeBytes, "", "not a size"},
		{typeBytes, "m", "not a size"},
		{typeBytes, "-1m", "not a size"},
		{typeBytes, "1.5g", "not a size"},
		{typeBytes, "16x", "not a size"},
		{typeBytes, "99999999999g", "not a size"},
		{typeMemoryMB, "", "not a memory size"},
		{typeMemoryMB, "lots", "not a memory size"},
		{typeMemoryMB, "-512", "not a memory size"},
		{typeMemoryMB, "1536k", "not a whole number of MB"},
		{typeMemoryMB, "100b", "not a whole number of MB"},
		{typeMemoryMB, "99999999999g", "not a memory size"},
		{typeMemoryMB, "9999999999", "too large"},
		{typeEnum, "verbose", "not one of debug, info, warn, error"},
		{typeEnum, "", "not one of"},
	}
	for _, tt := range bad {
		got, err := tt.typ.parse(tt.in, levels)
		if err == nil {
			t.Errorf("%s.parse(%q) = %#v, want an error", tt.typ, tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s.parse(%q) error = %q, want it to contain %q", tt.typ, tt.in, err, tt.want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 100: "100 B", 1 << 10: "1 KiB", 3 << 20: "3 MiB", 1 << 30: "1 GiB", 1536: "1536 B"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "abc", 0},
		{"", "abc", 3},
		{"timeout", "timout", 1},
		{"timeout", "tiemout", 1}, // a transposition
		{"timeout", "timeouts", 1},
		{"master", "worker", 4},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
