package ere

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The differential test: patterns and texts through this package and
// through glibc's regcomp(REG_EXTENDED|REG_NOSUB) and regexec in the
// C.UTF-8 locale, which must agree on match, no match, or the error text.
// The C program is built by the test (it is no part of the product), and
// answers one request a line: "PATLEN TEXTLEN\n" then the bytes of both
// (TEXTLEN -1: compile only).
const oracleSource = `
#include <locale.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static char *readn(long n) {
	char *b = malloc(n + 1);
	if (!b || fread(b, 1, n, stdin) != (size_t)n) exit(2);
	b[n] = 0;
	return b;
}

int main(void) {
	struct rlimit lim = {1L << 30, 1L << 30}; /* REG_ESPACE, not the OOM killer */
	setrlimit(RLIMIT_AS, &lim);
	if (!setlocale(LC_ALL, "C.UTF-8")) return 3;
	long pl, tl;
	char *prev = NULL;
	long prevlen = -1;
	regex_t re;
	int rc = 0;
	while (scanf("%ld %ld", &pl, &tl) == 2) {
		if (getchar() != '\n') return 2;
		char *pat = readn(pl);
		if (prevlen != pl || memcmp(prev, pat, pl) != 0) {
			if (prev && rc == 0) regfree(&re);
			free(prev);
			prev = pat, prevlen = pl;
			rc = regcomp(&re, pat, REG_EXTENDED | REG_NOSUB);
		} else
			free(pat);
		char *text = tl >= 0 ? readn(tl) : NULL;
		if (rc != 0) {
			char msg[256];
			regerror(rc, &re, msg, sizeof msg);
			printf("E %s\n", msg);
		} else if (!text)
			printf("1\n");
		else
			printf("%d\n", regexec(&re, text, 0, NULL, 0) == 0);
		free(text);
		fflush(stdout);
	}
	return 0;
}
`

type oracle struct {
	bin   string
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
}

// newOracle builds the C program in dir, or skips tb where there is no
// gcc, glibc or C.UTF-8 locale.
func newOracle(tb testing.TB, dir string) *oracle {
	tb.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		tb.Skip("no gcc: the glibc oracle cannot be built")
	}
	src := filepath.Join(dir, "oracle.c")
	if err := os.WriteFile(src, []byte(oracleSource), 0o644); err != nil {
		tb.Fatal(err)
	}
	o := &oracle{bin: filepath.Join(dir, "oracle")}
	if out, err := exec.Command("gcc", "-O2", "-o", o.bin, src).CombinedOutput(); err != nil {
		tb.Skipf("gcc: %v\n%s", err, out)
	}
	if err := o.start(); err != nil {
		tb.Fatal(err)
	}
	if got, ok := o.query("a", "a"); !ok || got != "1" {
		tb.Skipf("the glibc oracle does not run (no C.UTF-8 locale?): %q", got)
	}
	tb.Cleanup(o.stop)
	return o
}

func (o *oracle) start() error {
	o.cmd = exec.Command(o.bin)
	var err error
	if o.in, err = o.cmd.StdinPipe(); err != nil {
		return err
	}
	out, err := o.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := o.cmd.Start(); err != nil {
		return err
	}
	o.lines = make(chan string)
	go func(lines chan<- string) {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}(o.lines)
	return nil
}

func (o *oracle) stop() {
	if o.cmd != nil {
		o.in.Close()
		o.cmd.Process.Kill()
		o.cmd.Wait()
		o.cmd = nil
	}
}

// query is glibc's answer: "1", "0" or "E text"; false when glibc took
// over 2 s (its regcomp takes exponential time on some patterns:
// "^(|b)+++++") or crashed (a stack overflow on deep nesting), and the
// oracle is restarted.
func (o *oracle) query(pat, text string) (string, bool) {
	fmt.Fprintf(o.in, "%d %d\n%s%s", len(pat), len(text), pat, text)
	select {
	case l, ok := <-o.lines:
		if ok {
			return l, true
		}
	case <-time.After(2 * time.Second):
	}
	o.stop()
	if err := o.start(); err != nil {
		panic(err)
	}
	return "", false
}

// ours is this package's answer, in the oracle's form.
func ours(pat, text string) string {
	re, err := Compile(pat)
	switch {
	case err != nil:
		return "E " + err.Error()
	case re.MatchString(text):
		return "1"
	}
	return "0"
}

// comparable tells whether s is made of characters whose classes both
// Unicode versions agree on (all below U+0C00, a few chosen above, and
// those beyond Unicode, in no class); stray bytes pass when strays is
// true.
func comparable(s string, strays bool) bool {
	for i := 0; i < len(s); {
		r, n := decode(s[i:], false)
		i += n
		switch {
		case n == 1 && r >= utf8.RuneSelf:
			if !strays {
				return false
			}
		case r >= 0x0c00 && r <= utf8.MaxRune && !strings.ContainsRune(extraChars, r):
			return false
		}
	}
	return true
}

// extraChars are characters above U+0BFF in the tests: Latin extended,
// punctuation, separators, CJK, fullwidth digits, a letter number, an
// emoji.
const extraChars = "ẞ—\u2028\u3000中€😀０Ⅷ"

// differs compares one pattern and text; "" when they agree, or differ
// only where the package documents it: back references, a program too
// big, glibc out of memory (the oracle has 1 GiB: a{1,32767} needs more)
// or time, and the anchors glibc loses in the copies of a repeated group.
func differs(o *oracle, pat, text string) string {
	want, ok := o.query(pat, text)
	got := ours(pat, text)
	switch {
	case !ok || got == want || want == "E Memory exhausted":
		return ""
	case got == "E "+string(errBackrefs) && (want == "0" || want == "1"):
		return ""
	case got == "E "+string(errTooBig) && (want == "0" || want == "1"):
		return ""
	case got == "0" && want == "1" && copiedAnchors(pat, text):
		return ""
	}
	return fmt.Sprintf("%q =~ %q: glibc %q, nsbox %q", text, pat, want, got)
}

// copiedAnchors is for the matches glibc finds because it loses anchors
// in a repetition it expands into copies (parse_dup_op's duplicate_tree:
// all but * ? and {1}). glibc marks the copies' nodes as duplicated, and
// then takes an anchor followed by such a node for one whose constraint
// it already spread (calc_eclosure_iter): the anchor holds nowhere, and
// (^b){2}c matches "bbc". It tells whether pat has such anchors and,
// with all of them dropped, matches text: glibc, which drops some of
// them, finds a match where nsbox does not only then.
func copiedAnchors(pat, text string) bool {
	tree, err := parse(pat)
	if err != nil {
		return false
	}
	found := false
	var drop func(n *node, inCopy bool) *node
	drop = func(n *node, inCopy bool) *node {
		if n == nil {
			return nil
		}
		if n.op == opAssert && inCopy {
			found = true
			return nil
		}
		if n.op == opRepeat && !(n.min == 0 && (n.max == 1 || n.max == -1)) && !(n.min == 1 && n.max == 1) {
			inCopy = true
		}
		for i, s := range n.sub {
			n.sub[i] = drop(s, inCopy)
		}
		return n
	}
	tree = drop(tree, false)
	re, err := compile(tree)
	return found && err == nil && re.MatchString(text)
}

var corpusPatterns = []string{
	// literals, dot, anchors
	"", "a", "ab", "abc", "a.c", ".", "..", "^", "$", "^$", "^a", "a$", "^a$", "^ab$", "x^", "$x", "a^b", "a$b",
	"\\`a", "a\\'", "\\`", "\\'", "(^a|b)", "(a|^b)+c", "(^|a)b", "x(^|a)b", "(a|$)$", "(a$)*", "(^a)*b", "^*", "$*",
	// anchors by a newline the match reads
	"a\n^b", "a.^b", ".^", "\n^", "a$\n", "a$.", "a$\n?", "a$()", "\n(^b)", "\\`\n^", "(a|\n^)+", "a$\\b.", "a$\\B.",
	"(b$){2}", "(^b){2}c", "(a|\\bb)+c", "x(a|^b)*c",
	// escapes
	`\.`, `\*`, `\(`, `\)`, `\{`, `\}`, `\|`, `\+`, `\?`, `\n`, `\t`, `\0`, `\a`, `\é`, `a\`, `\\`, `\[`, `\]`, `\^`, `\$`,
	`\w`, `\W`, `\s`, `\S`, `\w+`, `^\w*$`, `\W\w`, `\s\S`, `a\sb`,
	`\b`, `\B`, `\<`, `\>`, `\ba`, `a\b`, `\Ba`, `a\B`, `\<a`, `a\>`, `\<a\>`, `\bx`, `\Bx`, `\b\b`, `\<\>`, `\<*`, `\b*`,
	// groups and alternation
	"()", "()*", "(a)", "(a)(b)", "((a))", "(a|b)", "a|b", "|a", "a|", "a||b", "(|a)", "(a|)", "(|)", "(", ")", "a)", ")(",
	"(a", "a(b", "(a))", "((a)", "(a|b)c", "a(b|c)d", "(ab|a)(bc|c)", "(a|ab)(c|bcd)(d*)",
	// repetition
	"a*", "a+", "a?", "a**", "a+?", "a?*", "a{2}", "a{2,}", "a{,2}", "a{1,2}", "a{0}", "a{0,0}", "a{0,}", "a{,}", "a{1}{2}",
	"a{2}*", "(a{2}){3}", "(ab){2}", "(a|b){2,3}", "(a*)*", "(a*)+", "(a+)+", "(a|aa)+", "(a*)*b", "^(a+)+$", "(|a)+", "(a?){3}a{3}",
	"*", "*a", "+a", "?a", "a|*b", "(*a)", "(+a)", "{1}", "a{", "a{1", "a{1,", "a{1,2", "a{}", "a{x}", "a{1x}", "a{ 1}", "a{1 }",
	"a{01}", "a{+1}", "a{-1}", "a{3,1}", "a{1,2,3}", "a{1\\,2}", "a{\\1}", "a{1\\}", "a{32767}", "a{32768}", "a{0,32768}",
	"a{32768,1}", "a{99999999999}", "a{1,32767}", "(ab){32767}", "a}", "}", "{", "{a", "a{,3}b",
	// brackets
	"[a]", "[ab]", "[a-c]", "[^a]", "[^a-c]", "[]a]", "[^]a]", "[]]", "[^]]", "[a-]", "[-a]", "[--a]", "[!--]", "[a-z-]",
	"[a-z-0]", "[]-a]", "[z-a]", "[a-a]", "[", "[a", "[]", "[^", "[^]", "[\\]", "[\\n]", "[a\\]]", "[[]", "[[a]", "[a[]",
	"[[:alpha:]]", "[[:digit:]]", "[[:alnum:]]", "[[:upper:]]", "[[:lower:]]", "[[:space:]]", "[[:blank:]]",
	"[[:punct:]]", "[[:print:]]", "[[:graph:]]", "[[:cntrl:]]", "[[:xdigit:]]", "[^[:alpha:]]", "[[:alpha:][:digit:]]",
	"[[:alpha:]_-]", "[[:ALPHA:]]", "[[:no:]]", "[[:combining:]]", "[[:alpha:]", "[[:alpha]", "[[:a]", "[[:]:]]",
	"[[:alpha:]-z]", "[a-[:alpha:]]", "[[:alpha:]-]", "[[:digit:]-]",
	"[[.a.]]", "[[.a.]-c]", "[a-[.c.]]", "[[.-.]]", "[[.-.]-z]", "[a-[.-.]]", "[[.].]]", "[[..]]", "[[.ab.]]", "[[.a]",
	"[[=a=]]", "[[=a=]b]", "[[=]=]]", "[[=ab=]]", "[[=a]", "[[=a=]-z]", "[a-[=z=]]", "[[.é.]]", "[[=é=]]",
	"[é]", "[^é]", "[éa]", "[a-é]", "[é-ï]", "[[:alpha:]é]", "[.]", "[*]", "[$^]", "[[.abcdefghijklmnopqrstuvwxyzabcde.]]",
	"[[:abcdefghijklmnopqrstuvwxyzabcdef:]]",
	// back references
	`\1`, `(a)\1`, `(a)\2`, `(a)|\1`, `((a)|b)\2`, `(a\1)`, `\9`,
	// non-ASCII
	"é", "é*", "é+", "^.$", "^..$", "café", "c.fé", "[[:alpha:]]+", "中", "[中]", "^[^a]$", "\\é*",
	// stray bytes in the text
	".\xe9", "\xe9", // this one is not UTF-8 and is left out: see comparable
}

var corpusTexts = []string{
	"", "a", "aa", "aaa", "aaaa", "ab", "abc", "b", "ba", "bab", "abab", "abcd", "abbcd", "x", "xa", "xb", "ax", "a b", "a\nb",
	"a\n", "\n", "\nb", "bb", "bbc", "xabc", "a\n\nb",
	"_", "-", "]", "[", "^", "$", "\\", "(", ")", "{", "}", ".", "*", "a)", "a}", "a{1}", ",", "!", "`",
	"café", "é", "Éa", "ß", "Ω", "ω", "ж", "ª", "²", "¹", "½", "١", "\u00a0", "\u0301", "a\u0301", "\u00ad", "\u200b",
	"中", "€", "😀", "ẞ", "—", "\u2028", "\u3000", "０", "Ⅷ",
	"\xe9", "a\xe9b", "\xe9x", "x\xe9", "\xc3", "\xff", "a\xc3\xa9", "\xf5\xb9\xb9\xb9", "\xf4\x90\x80\x80a", "\xf5\xb9",
	"\xf8\x88\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", "\xfd\xbf\xbf\xbf\xbf\xbf", "\xfe", "\xed\xa0\x80", "\xef\xbf\xbe", "\xc0\x80",
	"1", "42", "a1_", "  ", "\t", " a", "a ", "aaaaaaaaaaaaaaaaaaaaaaa", "sleep 60", "/bin/sleep 120", "net", "nets",
}

func TestAgainstGlibc(t *testing.T) {
	o := newOracle(t, t.TempDir())
	n := 0
	for _, pat := range corpusPatterns {
		if !comparable(pat, false) {
			continue
		}
		for _, text := range corpusTexts {
			if d := differs(o, pat, text); d != "" {
				t.Error(d)
			}
			n++
		}
	}
	t.Logf("%d pattern and text pairs", n)
}

// FuzzAgainstGlibc: go test -fuzz FuzzAgainstGlibc ./pkg/ere/
func FuzzAgainstGlibc(f *testing.F) {
	for i, pat := range corpusPatterns {
		f.Add(pat, corpusTexts[i%len(corpusTexts)])
	}
	o := newOracle(f, f.TempDir())
	f.Fuzz(func(t *testing.T, pat, text string) {
		if len(pat) > 200 || len(text) > 200 || !comparable(pat, false) || !comparable(text, true) {
			t.Skip()
		}
		if d := differs(o, pat, text); d != "" {
			t.Error(d)
		}
	})
}

// The pieces FuzzGrammar builds patterns and texts of: the fuzzer's bytes
// choose them, so that its mutations move through the grammar rather
// than through bytes that mostly make errors.
var (
	grammarPieces = []string{"a", "b", "é", ".", "\n", " ", "_", "x", "(", ")", "|", "*", "+", "?", "{2}", "{1,2}",
		"{0,1}", "{,2}", "{2,}", "{0}", "{1}", "^", "$", "\\`", "\\'", "\\b", "\\B", "\\<", "\\>", "\\w", "\\W", "\\s",
		"\\S", "[ab]", "[^a]", "[a-c]", "[[:alpha:]]", "[[:space:]]", "[é]", "[^é]", "[\n]", "()", "(a|)", "(|b)",
		"\\", "{", "}", "[", "]", "-", "\\1", "\\.", "\\é"}
	grammarChars = []string{"a", "b", "é", "\n", " ", "_", "x", "\xe9", "-", ".", "中", "ab", "aa"}
)

// FuzzGrammar: go test -fuzz FuzzGrammar ./pkg/ere/
func FuzzGrammar(f *testing.F) {
	for _, seed := range []string{"\x03\x00\x0b\x01", "\x05\x08\x00\x0a\x01\x09\x0c\x00\x01", "\x04\x15\x08\x00\x0c\x02\x00\x00"} {
		f.Add([]byte(seed))
	}
	o := newOracle(f, f.TempDir())
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			t.Skip()
		}
		n := int(data[0]%16) + 1
		var pat, text strings.Builder
		for i, b := range data[1:] {
			if i < n {
				pat.WriteString(grammarPieces[int(b)%len(grammarPieces)])
			} else {
				text.WriteString(grammarChars[int(b)%len(grammarChars)])
			}
		}
		if d := differs(o, pat.String(), text.String()); d != "" {
			t.Error(d)
		}
	})
}
