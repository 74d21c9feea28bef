package app

import (
	"errors"
	"strings"
)

// SplitWords splits s into words the way a POSIX shell would tokenise a
// simple command, but without any expansion: it honours single quotes,
// double quotes and backslash escapes, and nothing else. Variables,
// globs, tildes, braces, command substitution, comments and operators
// such as ';' or '|' are ordinary characters, because the words go straight
// into an argv and are never seen by a shell.
//
// Inside double quotes a backslash escapes only '"', '\\', '$', '`' and a
// newline, as in sh; before any other character it is kept. A backslash
// followed by a newline (outside single quotes) joins the lines. An empty
// pair of quotes is an empty word. An unterminated quote or a trailing
// backslash is an error.
func SplitWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		// inWord is separate from cur.Len() so that '' yields an empty word.
		inWord bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			if s[i] == '\n' {
				continue // line continuation: neither character is kept
			}
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			j, err := doubleQuoted(s, i+1, &cur)
			if err != nil {
				return nil, err
			}
			i = j
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// doubleQuoted copies the body of a double-quoted string starting at s[i]
// into cur and returns the index of the closing quote.
func doubleQuoted(s string, i int, cur *strings.Builder) (int, error) {
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return i, nil
		case '\\':
			if i+1 < len(s) {
				switch n := s[i+1]; n {
				case '"', '\\', '$', '`':
					cur.WriteByte(n)
					i++
					continue
				case '\n':
					i++
					continue
				}
			}
			cur.WriteByte(c)
		default:
			cur.WriteByte(c)
		}
	}
	return 0, errors.New("unterminated double quote")
}
