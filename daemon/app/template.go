package app

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/alohasched/aloha/api"
)

// A command template lets an operator define a kind in configuration, e.g.
//
//	spark-submit --name {name} --total-executor-cores {cores} {args}
//
// It is split into words once, when it is added, with SplitWords' rules.
// Each launch then substitutes the placeholders word by word:
//
//	{name}    spec.Name           {appId}   Launch.AppID
//	{args}    spec.Args           {appDir}  Launch.Dir
//	{libs}    spec.Libs, joined with commas
//	{cores}   spec.Cores          {memory}  spec.Memory (MB)
//
// A word that is exactly {args} becomes the argument words instead:
// spec.Argv if set, else spec.Args split like the exec kind splits it.
// "{{" stands for a literal "{". Substituted values are never re-parsed
// and never pass through a shell: "$(rm -rf /)" in a name stays those
// characters in one argv word.
type template struct {
	name  string
	words []tmplWord
}

// tmplWord is one word of a template: literal text and placeholders in
// order. argsWord marks a word that is exactly {args}.
type tmplWord struct {
	parts    []tmplPart
	argsWord bool
}

type tmplPart struct {
	lit string
	ph  string // placeholder name, "" for a literal
}

var placeholders = map[string]func(l *Launch) string{
	"name":   func(l *Launch) string { return l.Spec.Name },
	"appId":  func(l *Launch) string { return l.AppID },
	"args":   func(l *Launch) string { return l.Spec.Args },
	"libs":   func(l *Launch) string { return strings.Join(l.Spec.Libs, ",") },
	"appDir": func(l *Launch) string { return l.Dir },
	"cores":  func(l *Launch) string { return strconv.Itoa(l.Spec.Cores) },
	"memory": func(l *Launch) string { return strconv.Itoa(l.Spec.Memory) },
}

// parseTemplate checks and pre-parses a template; errors name it.
func parseTemplate(name, text string) (*template, error) {
	words, err := SplitWords(text)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("template %s: no command", name)
	}
	t := &template{name: name}
	for i, w := range words {
		tw, err := parseWord(w)
		if err != nil {
			return nil, fmt.Errorf("template %s: word %d %q: %w", name, i+1, w, err)
		}
		t.words = append(t.words, tw)
	}
	if t.words[0].argsWord {
		// The command itself would come from the submitter; that is the
		// exec kind, not a template.
		return nil, fmt.Errorf("template %s: the first word must not be {args}", name)
	}
	return t, nil
}

func parseWord(w string) (tmplWord, error) {
	var (
		tw  tmplWord
		lit strings.Builder
	)
	flush := func() {
		if lit.Len() > 0 {
			tw.parts = append(tw.parts, tmplPart{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(w); i++ {
		if w[i] != '{' {
			lit.WriteByte(w[i])
			continue
		}
		if strings.HasPrefix(w[i:], "{{") {
			lit.WriteByte('{')
			i++
			continue
		}
		end := strings.IndexByte(w[i:], '}')
		if end < 0 || !isIdent(w[i+1:i+end]) {
			// "{a,b}", "{}" and a lone "{" are not placeholders.
			lit.WriteByte('{')
			continue
		}
		ph := w[i+1 : i+end]
		if placeholders[ph] == nil {
			return tmplWord{}, fmt.Errorf("unknown placeholder {%s}", ph)
		}
		flush()
		tw.parts = append(tw.parts, tmplPart{ph: ph})
		i += end
	}
	flush()
	tw.argsWord = len(tw.parts) == 1 && tw.parts[0].ph == "args"
	return tw, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// expand builds the argv for one launch.
func (t *template) expand(l *Launch) ([]string, error) {
	argv := make([]string, 0, len(t.words)+4)
	for _, w := range t.words {
		if w.argsWord {
			args, err := argsWords(&l.Spec)
			if err != nil {
				return nil, err
			}
			argv = append(argv, args...)
			continue
		}
		var b strings.Builder
		for _, p := range w.parts {
			if p.ph == "" {
				b.WriteString(p.lit)
			} else {
				b.WriteString(placeholders[p.ph](l))
			}
		}
		argv = append(argv, b.String())
	}
	return argv, nil
}

// argsWords is the argument vector a spec asks for: Argv verbatim, else
// Args split into words.
func argsWords(s *api.AppSpec) ([]string, error) {
	if len(s.Argv) > 0 {
		return append([]string(nil), s.Argv...), nil
	}
	w, err := SplitWords(s.Args)
	if err != nil {
		return nil, fmt.Errorf("args: %w", err)
	}
	return w, nil
}
