package ere

import (
	"strings"
	"testing"
	"time"
)

// The behaviour is glibc's, and oracle_test.go compares it with glibc's
// regcomp and regexec; these are the cases that read as the manual.

func TestMatch(t *testing.T) {
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
		{"^a{,2}$", "aa", true},
		{"^a{,2}$", "aaa", false},
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
		{"^.{4}$", "café", true},
		{"a)", "a)", true},
		{"a}", "a}", true},
		{`\w+\s\W`, "ab -", true},
		{`^\S+$`, "a b", false},
		{`\bnet\b`, "ip net x", true},
		{`\bnet\b`, "ip netns", false},
		{`\Bet`, "net", true},
		{`\<n`, "a net", true},
		{`t\>`, "net", true},
		{`t\>`, "nets", false},
		{"\\`a", "ab", true},
		{"b\\'", "ab", true},
		{"[[.a.]-c]", "b", true},
		{"[[=a=]]", "a", true},
		{"a{0}b", "b", true},
		{"^a{1,32767}$", strings.Repeat("a", 100), true},
		{"^(a|b){3}$", "abb", true},
		{"\xe9", "caf\xe9", true}, // a stray byte matches itself
		{"\xe9", "café", false},   // not the character é
		{".", "\xe9", false},      // which no character matches
		{"[^a]", "\xe9", false},   // not even a negated bracket
		{`\Bx`, "\xe9x", true},    // but is a word character (é)
		{"a\x00b", "a", true},     // read up to the NUL, as regcomp
		{"^a$", "a\x00b", true},   // and regexec
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
}

func TestErrors(t *testing.T) {
	for re, want := range map[string]error{
		"(":                  errParen,
		"a(b|c":              errParen,
		"[a":                 errBrack,
		"[":                  errBadPat,
		"[^":                 errBadPat,
		"[]":                 errBrack,
		"*a":                 errBadRpt,
		"^*":                 errBadRpt,
		"a|+b":               errBadRpt,
		"{1}":                errBadRpt,
		`a\`:                 errEscape,
		"[z-a]":              errRange,
		"[a-z-0]":            errRange,
		"[[:alpha:]-z]":      errRange,
		"[à-é]":              errCollate,
		"[[.ab.]]":           errCollate,
		"[[=é=]]":            errCollate,
		"a{1":                errBrace,
		"a{1,2":              errBrace,
		"a{x}":               errBadBr,
		"a{}":                errBadBr,
		"a{3,1}":             errBadBr,
		"a{1,2,3}":           errBadBr,
		"a{32768}":           errTooBig,
		"a{99999999999}":     errTooBig,
		"[[:no:]]":           errCtype,
		"[[:ALPHA:]]":        errCtype,
		`\1`:                 errSubReg,
		`(a)|\1`:             errSubReg,
		`(a)\1`:              errBackrefs,
		"(abcdefghi){32767}": errTooBig,
	} {
		if _, err := Compile(re); err != want {
			t.Errorf("Compile(%q) = %v, want %v", re, err, want)
		}
	}
}

// TestLinear: the patterns that made the backtracking matcher take
// exponential time take a few milliseconds, and the work grows with the
// text, not exponentially.
func TestLinear(t *testing.T) {
	for _, tc := range []struct{ re, s string }{
		{"^(a+)+$", strings.Repeat("a", 5000) + "b"},
		{"(a*)*b", strings.Repeat("a", 5000)},
		{"(a|aa)+$", strings.Repeat("a", 5000) + "b"},
		{"(.*){1,32767}x", strings.Repeat("a", 200)},
	} {
		e, err := Compile(tc.re)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.re, err)
		}
		start := time.Now()
		if e.MatchString(tc.s) {
			t.Errorf("%q matched", tc.re)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q over %d bytes: %v", tc.re, len(tc.s), d)
		}
	}
}

// TestNesting: groups nest as deep as the pattern goes (glibc's limit is
// its stack).
func TestNesting(t *testing.T) {
	deep := strings.Repeat("(", 5000) + "a" + strings.Repeat(")", 5000)
	e, err := Compile(deep)
	if err != nil || !e.MatchString("xay") || e.MatchString("xy") {
		t.Errorf("5000 nested groups: %v", err)
	}
}
