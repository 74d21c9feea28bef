package app

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   \t\n ", nil},
		{"a b  c", []string{"a", "b", "c"}},
		{"  lead and trail  ", []string{"lead", "and", "trail"}},
		{`'a b' "c d"`, []string{"a b", "c d"}},
		{`"--conf" "a b"`, []string{"--conf", "a b"}},
		{`x'y'"z"w`, []string{"xyzw"}},
		{`'' ""`, []string{"", ""}},
		{`a\ b`, []string{"a b"}},
		{`\'\"\\`, []string{`'"\`}},
		{`'it''s'`, []string{"its"}},
		{`'a\nb'`, []string{`a\nb`}}, // no escapes in single quotes
		{`"a\"b" "c\\d" "e\$f" "g\xh"`, []string{`a"b`, `c\d`, `e$f`, `g\xh`}},
		{"a\\\nb", []string{"ab"}},     // line continuation
		{"\"a\\\nb\"", []string{"ab"}}, // ... inside double quotes too
		{"'a\nb'", []string{"a\nb"}},   // newline kept inside quotes
		{"one\ntwo", []string{"one", "two"}},
		// No expansion of any kind: these are plain characters.
		{`$HOME ~ * {a,b} $(touch x) ; | && > # c`, []string{"$HOME", "~", "*", "{a,b}", "$(touch", "x)", ";", "|", "&&", ">", "#", "c"}},
		{`"$(rm -rf /)"`, []string{"$(rm -rf /)"}},
		{"ünï cödé", []string{"ünï", "cödé"}},
	}
	for _, tt := range tests {
		got, err := SplitWords(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("SplitWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSplitWordsErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`'open`, "unterminated single quote"},
		{`a "open`, "unterminated double quote"},
		{`"esc\"`, "unterminated double quote"},
		{`trailing\`, "trailing backslash"},
	}
	for _, tt := range tests {
		got, err := SplitWords(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SplitWords(%q) = %q, %v; want error %q", tt.in, got, err, tt.want)
		}
	}
}
