package ere

import (
	"strings"
	"testing"
)

func TestERE(t *testing.T) {
	tests := []struct {
		re, s string
		want  bool
	}{
		{"sleep", "/bin/sleep 60", true},
		{"^sleep", "/bin/sleep 60", false},
		{"60$", "/bin/sleep 60", true},
		{"^$", "", true},
		{"a|b", "xbx", true},
		{"^(ab|cd)+$", "abcdab", true},
		{"^(ab|cd)+$", "abcda", false},
		{"colou?r", "color", true},
		{"^a{2,3}$", "aaa", true},
		{"^a{2,3}$", "aaaa", false},
		{"^a{2}$", "aa", true},
		{"^a{2,}$", "aaaaa", true},
		{"[0-9]+", "pid 4242", true},
		{"^[^0-9]+$", "abc", true},
		{"^[^0-9]+$", "ab3", false},
		{"^[[:digit:]]{10}$", "4026531837", true},
		{"^[[:alpha:]_]+$", "net_x", true},
		{"[]]", "a]b", true},
		{`\.`, "a.b", true},
		{`\.`, "ab", false},
		{"a.c", "abc", true},
		{"(a*)*b", "aaab", true},
		{"(a|)+b", "b", true},
		{"x*", "", true},
		{"é.", "café!", true},
	}
	for _, tc := range tests {
		e, err := Compile(tc.re)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.re, err)
			continue
		}
		if got := e.MatchString(tc.s); got != tc.want {
			t.Errorf("%q =~ %q = %v, want %v", tc.s, tc.re, got, tc.want)
		}
	}
	for re, want := range map[string]error{
		"(":        errParen,
		")":        errRParen,
		"[a":       errBrack,
		"*a":       errBadRpt,
		`a\`:       errEscape,
		"[z-a]":    errRange,
		"a{1":      errBrace,
		"a{x}":     errBadBr,
		"a{3,1}":   errBadBr,
		"[[:no:]]": errCtype,
	} {
		if _, err := Compile(re); err != want {
			t.Errorf("Compile(%q) = %v, want %v", re, err, want)
		}
	}
}

// TestNesting: glibc refuses a pattern nested too deep rather than
// recursing without end; one level less compiles and matches.
func TestNesting(t *testing.T) {
	deep := strings.Repeat("(", 101) + "a" + strings.Repeat(")", 101)
	if _, err := Compile(deep); err != errTooMuch {
		t.Errorf("101 nested groups: %v, want %v", err, errTooMuch)
	}
	ok := strings.Repeat("(", 100) + "a" + strings.Repeat(")", 100)
	e, err := Compile(ok)
	if err != nil || !e.MatchString("xay") || e.MatchString("xy") {
		t.Errorf("100 nested groups: %v", err)
	}
}
