package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// property is one key=value line of a properties file.
type property struct {
	key, value string
	line       int // where its logical line starts, from 1
}

// parseProperties reads a file in the syntax of Java's Properties.load,
// which Spark and the original Aloha use for their conf files, then trims
// each value as Spark does. name is used in errors. It returns every
// property in file order, duplicates included, and one error listing every
// bad line.
func parseProperties(data string, name string) ([]property, error) {
	data = strings.TrimPrefix(data, "\uFEFF") // editors on Windows add a BOM
	lines := splitLines(data)
	var props []property
	var errs []error
	for i := 0; i < len(lines); i++ {
		start := i + 1
		piece := trimLeft(lines[i])
		if piece == "" || piece[0] == '#' || piece[0] == '!' {
			continue // a comment line never continues, as in Java
		}
		var logical strings.Builder
		for {
			if !oddTrailingBackslashes(piece) {
				logical.WriteString(piece)
				break
			}
			logical.WriteString(piece[:len(piece)-1])
			if i+1 == len(lines) {
				break
			}
			i++
			piece = trimLeft(lines[i])
		}
		k, v, err := parseLine(logical.String())
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %s:%d: %v", name, start, err))
			continue
		}
		props = append(props, property{key: k, value: v, line: start})
	}
	return props, errors.Join(errs...)
}

// splitLines splits at \n, \r\n and \r, Java's three line terminators.
func splitLines(s string) []string {
	var lines []string
	for s != "" {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
	return lines
}

// isSpace reports Java's separator whitespace: space, tab and form feed.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

func trimLeft(s string) string {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return s[i:]
}

// oddTrailingBackslashes reports a continued line: "a\" continues, "a\\"
// ends in an escaped backslash and does not.
func oddTrailingBackslashes(s string) bool {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n%2 == 1
}

// parseLine splits a logical line at the first unescaped '=', ':' or
// whitespace, skipping whitespace and one '=' or ':' after the key.
func parseLine(s string) (key, value string, err error) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '=' || c == ':' || isSpace(c) {
			break
		}
		i++
	}
	i = min(i, len(s))
	if i == 0 {
		return "", "", errors.New("line has no key")
	}
	rest := trimLeft(s[i:])
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = trimLeft(rest[1:])
	}
	if key, err = unescape(s[:i]); err != nil {
		return "", "", err
	}
	if value, err = unescape(rest); err != nil {
		return "", "", err
	}
	return key, strings.TrimSpace(value), nil
}

// unescape resolves Java's escapes: \t \n \r \f, \uXXXX (surrogate pairs
// combined), and a backslash before any other byte stands for that byte.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		i++
		if i == len(s) {
			break // a lone trailing backslash is dropped, as in Java
		}
		switch c := s[i]; c {
		case 't':
			b = append(b, '\t')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 'f':
			b = append(b, '\f')
		case 'u':
			r, n, err := unescapeUnicode(s[i-1:])
			if err != nil {
				return "", err
			}
			b = utf8.AppendRune(b, r)
			i += n - 2
		default:
			b = append(b, c)
		}
	}
	return string(b), nil
}

// unescapeUnicode reads \uXXXX, or two of them forming a surrogate pair, at
// the start of s, and returns the rune and the bytes it took.
func unescapeUnicode(s string) (rune, int, error) {
	hex4 := func(s string) (rune, bool) {
		if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(s[2:6], 16, 16)
		return rune(n), err == nil
	}
	r, ok := hex4(s)
	if !ok {
		return 0, 0, errors.New(`malformed \uXXXX escape`)
	}
	if !utf16.IsSurrogate(r) {
		return r, 6, nil
	}
	if r2, ok := hex4(s[6:]); ok {
		if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
			return pair, 12, nil
		}
	}
	return 0, 0, errors.New(`\u escape is half of a surrogate pair`)
}
