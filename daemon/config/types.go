package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// valueType says how a key's text is parsed and which getter reads it.
type valueType int

const (
	typeString   valueType = iota // any text
	typeInt                       // decimal integer
	typeBool                      // true/false, yes/no, on/off, 1/0
	typeDuration                  // Go duration (60s, 1h30m) or bare seconds
	typeBytes                     // size in bytes: 16m, 16MiB, 1g, 1024k, bare bytes
	typeMemoryMB                  // memory in MB: 2g, 512m, bare MB
	typeEnum                      // one of a fixed set, case-insensitive
	typeList                      // comma-separated
)

func (t valueType) String() string {
	return [...]string{"string", "int", "bool", "duration", "size", "memory", "enum", "list"}[t]
}

// parse turns text into the Go value the getters return: string, int, bool,
// time.Duration, int64 (bytes), int (MB), string (canonical enum spelling)
// or []string. Its errors are reasons, completed with the key by the caller.
func (t valueType) parse(s string, enum []string) (any, error) {
	switch t {
	case typeString:
		return s, nil
	case typeInt:
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, errors.New("not an integer")
		}
		return n, nil
	case typeBool:
		switch strings.ToLower(s) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0":
			return false, nil
		}
		return nil, errors.New("not a boolean (want true or false)")
	case typeDuration:
		return parseDuration(s)
	case typeBytes:
		n, err := parseSize(s, 1)
		if err != nil {
			return nil, errors.New("not a size (want e.g. 16m, 16MiB, 1g or a number of bytes)")
		}
		return n, nil
	case typeMemoryMB:
		return parseMemoryMB(s)
	case typeEnum:
		for _, e := range enum {
			if strings.EqualFold(s, e) {
				return e, nil
			}
		}
		return nil, fmt.Errorf("not one of %s", strings.Join(enum, ", "))
	case typeList:
		return parseList(s), nil
	}
	panic(fmt.Sprintf("config: unhandled type %d", t))
}

// parseDuration reads a Go duration or, as Spark does, a bare number of
// seconds.
func parseDuration(s string) (time.Duration, error) {
	bad := errors.New("not a duration (want e.g. 60s or 60)")
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > math.MaxInt64/int64(time.Second) {
			return 0, bad
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, bad
	}
	return d, nil
}

// units are binary multiples whatever the spelling: Spark reads "1g" and
// "1gb" as 2^30 bytes, and so do we.
var units = map[string]int64{
	"b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

// parseSize reads digits followed by an optional unit; a bare number is
// multiplied by bare.
func parseSize(s string, bare int64) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, errors.New("no number")
	}
	mult := bare
	if unit := strings.ToLower(strings.TrimSpace(s[i:])); unit != "" {
		var ok bool
		if mult, ok = units[unit]; !ok {
			return 0, fmt.Errorf("unknown unit %q", unit)
		}
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}

// parseMemoryMB reads memory as SPARK_WORKER_MEMORY does, except that a
// bare number means MB rather than bytes, which is what operators write.
func parseMemoryMB(s string) (int, error) {
	n, err := parseSize(s, 1<<20)
	if err != nil {
		return 0, errors.New("not a memory size (want e.g. 1024 for MB, 512m or 2g)")
	}
	if n%(1<<20) != 0 {
		return 0, errors.New("not a whole number of MB")
	}
	if n>>20 > math.MaxInt32 {
		return 0, errors.New("too large")
	}
	return int(n >> 20), nil
}

// parseList splits on commas, trims each item and drops empty ones, so
// "a, b," is [a b] and "" is empty.
func parseList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatBytes writes n with the largest binary unit that divides it.
func formatBytes(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.suffix)
		}
	}
	return fmt.Sprintf("%d B", n)
}
