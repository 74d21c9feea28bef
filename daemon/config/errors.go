package config

import (
	"fmt"
	"strings"
)

// Sources of values, as Source reports them. Files, environment variables
// and flags add their detail: "file /etc/aloha/aloha-default.conf:12",
// "env ALOHA_WORKER_CORES", "flag --cores".
const (
	SourceDefault  = "default"
	SourceOverride = "-D"
)

// ValueError is one refused value. Load and Validate join one per problem
// into the error they return; errors.As finds the first.
type ValueError struct {
	Key    string
	Value  string // "***" for a secret
	Source string
	Reason string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("config: %s = %q (from %s): %s", e.Key, e.Value, e.Source, e.Reason)
}

// Warning is a problem that does not stop a daemon: an unknown or foreign
// key, or a key given twice.
type Warning struct {
	Key     string
	Source  string
	Message string
}

func (w Warning) String() string {
	return fmt.Sprintf("config: %s (from %s): %s", w.Key, w.Source, w.Message)
}

// unknownKey is the warning for a key that is not known, which is then
// ignored.
func unknownKey(key, source string) Warning {
	what, hint := whyUnknown(key)
	msg := what + ", ignored"
	if hint != "" {
		msg += "; " + hint
	}
	return Warning{Key: key, Source: source, Message: msg}
}

// whyUnknown says what is wrong with an unknown key, and how to fix it if
// that can be guessed.
func whyUnknown(key string) (what, hint string) {
	switch {
	case !strings.HasPrefix(key, "aloha."):
		return "not an aloha.* key", ""
	case strings.HasPrefix(key, kindPrefix):
		return "unknown key", "application kind templates are aloha.kind.<name>.command"
	}
	if s := suggest(key); s != "" {
		return "unknown key", "did you mean " + s + "?"
	}
	return "unknown key", ""
}

// suggest returns the known key nearest to key, if it is near enough to be
// a typo. Case is ignored because Java-style camelCase is easy to get
// wrong.
func suggest(key string) string {
	const maxDistance = 3
	best, bestD := "", maxDistance+1
	lower := strings.ToLower(key)
	for _, k := range table {
		if d := distance(lower, strings.ToLower(k.name)); d < bestD {
			best, bestD = k.name, d
		}
	}
	return best
}

// distance is the optimal string alignment distance: insertions, deletions,
// substitutions and transpositions of adjacent bytes each cost one.
func distance(a, b string) int {
	// Three rows suffice: the current one and the two before it.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
