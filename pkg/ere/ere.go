// Package ere is POSIX extended regular expressions as glibc's regcomp(3)
// compiles them with REG_EXTENDED|REG_NOSUB in the C.UTF-8 locale, for the
// =~ and !~ of libsmartcols filters (pkg/scolsfilter): the same patterns
// accepted, the same regerror texts for those refused, the same texts
// matched. Matching says only whether the expression matches somewhere in
// the text, in time proportional to the text's length (times the size of
// the expression): the text is often chosen by someone else (the name of
// a process), so no pattern may make a match take exponential time.
//
// What glibc accepts: literals, ".", bracket expressions (ranges,
// [:class:], [.c.] and [=c=] for one character), ^ and $, \` and \' (the
// ends of the text), ( ) and |, * + ? {m} {m,} {m,n} {,n} (n up to
// RE_DUP_MAX, 32767), \w \W \s \S, \b \B \< \> (word boundaries), and any
// other character after a backslash for itself. Characters are UTF-8 as
// glibc reads it (forms of up to six bytes); a byte that does not start
// one is a character of its own, which only the same byte in the pattern
// matches. oracle_test.go holds the comparison with glibc.
//
// Where it differs from glibc:
//   - back references (\1 to \9) are refused ("Back references are not
//     supported"): no matcher in linear time can have them;
//   - an anchor in a group that a repetition copies (+, {m,n}; not * ? or
//     {1}) holds in every copy; glibc loses some of them, and matches
//     (^b){2}c in "bbc" and (a|^b)+c in "abc";
//   - an expression that would take more than 262144 states once its
//     intervals are expanded ((abcdefghi){32767}) is refused as "Regular
//     expression too big", where glibc compiles it (glibc takes seconds
//     and 8 GB to compile a{1,32767}, which this package takes as any
//     other); nested groups are not limited, where glibc runs out of stack
//     beyond some ten thousand;
//   - the classes of characters beyond U+0BFF follow Go's Unicode tables,
//     derived as glibc derives its C.UTF-8 classes: where the two Unicode
//     versions differ (characters new in one of them), so may the classes;
//   - in a pattern that is not UTF-8, a stray byte matches the same byte
//     in the text only where it is a stray byte too (glibc also matches it
//     inside a character).
//
// It exists rather than Go's regexp because regexp/syntax builds tables in
// its package init, which every applet of the multi-call binary would pay
// at start, and because its syntax and errors are not glibc's.
package ere

import (
	"strings"
	"sync"
)

// Regexp is a compiled expression. Its MatchString may be called from
// several goroutines.
type Regexp struct {
	prog     []inst
	sets     []*charSet
	minLen   int  // the fewest characters a match takes
	anchored bool // every match starts at the start of the text
	words    bool // the program has word assertions: the matcher classifies characters
	byteMode bool // glibc matches it in single-byte mode: "." takes surrogates

	mu   sync.Mutex
	free *machine // a machine to reuse
}

// reError is a regerror text of glibc.
type reError string

func (e reError) Error() string { return string(e) }

// glibc's regerror texts (posix/regcomp.c), and the one refusal of its own.
const (
	errBadPat   reError = "Invalid regular expression"
	errCollate  reError = "Invalid collation character"
	errCtype    reError = "Invalid character class name"
	errEscape   reError = "Trailing backslash"
	errSubReg   reError = "Invalid back reference"
	errBrack    reError = "Unmatched [, [^, [:, [., or [="
	errParen    reError = "Unmatched ( or \\("
	errBrace    reError = "Unmatched \\{"
	errBadBr    reError = "Invalid content of \\{\\}"
	errRange    reError = "Invalid range end"
	errBadRpt   reError = "Invalid preceding regular expression"
	errTooBig   reError = "Regular expression too big"
	errBackrefs reError = "Back references are not supported"
)

// Compile compiles pat, or returns glibc's regerror text for it. Like
// regcomp, it reads pat up to its first NUL byte.
func Compile(pat string) (*Regexp, error) {
	if i := strings.IndexByte(pat, 0); i >= 0 {
		pat = pat[:i]
	}
	tree, err := parse(pat)
	if err != nil {
		return nil, err
	}
	return compile(tree)
}

// MatchString reports whether the expression matches somewhere in s. Like
// regexec, it reads s up to its first NUL byte.
func (re *Regexp) MatchString(s string) bool {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if len(s) < re.minLen {
		return false
	}
	re.mu.Lock()
	m := re.free
	re.free = nil
	re.mu.Unlock()
	if m == nil {
		m = newMachine(len(re.prog))
	}
	ok := m.match(re, s)
	re.mu.Lock()
	re.free = m
	re.mu.Unlock()
	return ok
}
