package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/pkg/applet"
)

// The option lists of an applet must agree in three places: its parser
// (applet.Options, the truth), its --help text (the Usage of the applet
// table) and the OPTIONS sections of its page, docs/<applet>.md. These
// tests fail on any option, or short letter, that one of them lacks.

// usageOption matches an option line of a --help text:
// " -t, --target <pid>  ...", "     --init  ...", " --map-user=<uid>  ...".
var usageOption = regexp.MustCompile(`^ {1,6}(?:-([A-Za-z0-9]), )?--([a-z0-9][a-z0-9-]*)(.?)`)

// opt is an option as one of the three places spells it.
type opt struct {
	short string
	arg   bool // takes an argument (required or optional)
}

func fromParser(a *applet.Applet) map[string]opt {
	m := map[string]opt{}
	for _, o := range applet.Options(a) {
		m[o.Long] = opt{short: o.Short, arg: o.Arg != 'n'}
	}
	return m
}

func fromUsage(usage string) map[string]opt {
	m := map[string]opt{}
	for _, line := range strings.Split(usage, "\n") {
		if s := usageOption.FindStringSubmatch(line); s != nil {
			m[s[2]] = opt{short: s[1], arg: s[3] == "=" || s[3] == "[" || (s[3] == " " && hasArgWord(line, s[0]))}
		}
	}
	return m
}

// hasArgWord reports whether the option in line is followed by an
// argument word ("<pid>", "slave|shared...", "deny" and then two spaces or
// the end of the line) rather than by its description
// ("--preserve-credentials do not touch uids or gids").
func hasArgWord(line, prefix string) bool {
	rest := line[len(prefix):]
	if rest == "" || rest[0] == ' ' {
		return false
	}
	word, after, _ := strings.Cut(rest, " ")
	return word[0] == '<' || strings.Contains(word, "|") || after == "" || strings.HasPrefix(after, " ")
}

// docTerm matches the short and long options named in a term of the
// OPTIONS sections: "**-t**, **--target** *pid*", a table row's first cell.
var (
	docLong    = regexp.MustCompile(`\*\*--([a-z0-9][a-z0-9-]*)\*\*`)
	docPair    = regexp.MustCompile(`\*\*-([A-Za-z0-9])\*\*, \*\*--([a-z0-9][a-z0-9-]*)\*\*`)
	docHeading = regexp.MustCompile(`^(#+) (.*)`)
)

// fromDoc reads the options documented in the page's sections whose title
// has OPTIONS in it (and their subsections): each term, or table row,
// that starts with "**-".
func fromDoc(t *testing.T, path string) map[string]opt {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]opt{}
	in, fence := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if fence {
			continue
		}
		if h := docHeading.FindStringSubmatch(line); h != nil {
			if len(h[1]) <= 2 {
				in = strings.Contains(h[2], "OPTIONS")
			}
			continue
		}
		if !in {
			continue
		}
		term := ""
		switch {
		case strings.HasPrefix(line, "**-"):
			term = line
		case strings.HasPrefix(line, "| **-"):
			term = strings.Split(line, " | ")[0]
		default:
			continue
		}
		for _, l := range docLong.FindAllStringSubmatch(term, -1) {
			m[l[1]] = opt{}
		}
		for _, p := range docPair.FindAllStringSubmatch(term, -1) {
			m[p[2]] = opt{short: p[1]}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// compare reports what got (from where) lacks or spells otherwise than want
// (from the parser); checkArg compares whether each takes an argument too.
func compare(t *testing.T, applet, where string, want, got map[string]opt, checkArg bool) {
	t.Helper()
	for _, l := range sortedKeys(want) {
		w := want[l]
		g, ok := got[l]
		switch {
		case !ok:
			t.Errorf("%s: --%s is missing from %s", applet, l, where)
		case g.short != w.short:
			t.Errorf("%s: --%s: short form %q in %s, %q in the parser", applet, l, g.short, where, w.short)
		case checkArg && g.arg != w.arg:
			t.Errorf("%s: --%s: %s says it takes an argument: %v, the parser: %v", applet, l, where, g.arg, w.arg)
		}
	}
	for _, l := range sortedKeys(got) {
		if _, ok := want[l]; !ok {
			t.Errorf("%s: %s has --%s, which the parser does not know", applet, where, l)
		}
	}
}

func sortedKeys(m map[string]opt) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestOptionsAgree(t *testing.T) {
	names := applet.Names()
	if len(names) == 0 {
		t.Fatal("no applets registered")
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			a := applet.Lookup(n)
			parser := fromParser(a)
			if len(parser) == 0 {
				t.Fatalf("%s: no options read from its parser (does its Run call applet.Parse?)", n)
			}
			compare(t, n, "its --help text", parser, fromUsage(a.Usage), true)
			compare(t, n, "docs/"+n+".md", parser, fromDoc(t, filepath.Join("..", "..", "docs", n+".md")), false)
		})
	}
}

func TestMulticallOptionsDocumented(t *testing.T) {
	want := map[string]opt{}
	for _, o := range applet.MulticallOptions() {
		want[o.Long] = opt{short: o.Short}
	}
	compare(t, "nsbox", "docs/nsbox.md", want, fromDoc(t, filepath.Join("..", "..", "docs", "nsbox.md")), false)
}

// TestEveryAppletHasAPage: a page for each visible applet, and no page
// (with a man-page title) for an applet that does not exist.
func TestEveryAppletHasAPage(t *testing.T) {
	names := applet.Names()
	pages, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	title := regexp.MustCompile(`^# ([a-z0-9-]+)\(([1-8])\) — nsbox$`)
	seen := map[string]bool{}
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		s := title.FindStringSubmatch(first)
		if s == nil {
			continue // not a man page: applets.md, walkthrough.md...
		}
		// A hidden applet's page may be named after what it is
		// (cni.md for nsbox-bridge).
		hidden := applet.Lookup(s[1]) != nil && !slices.Contains(names, s[1])
		if s[1]+".md" != filepath.Base(p) && !hidden {
			t.Errorf("%s: its title names %s", p, s[1])
		}
		if s[1] != "nsbox" && !slices.Contains(names, s[1]) && !hidden {
			t.Errorf("%s: a man page for %s, which is not an applet", p, s[1])
		}
		seen[s[1]] = true
	}
	for _, n := range append(names, "nsbox") {
		if !seen[n] {
			t.Errorf("no man page docs/%s.md (first line \"# %s(1) — nsbox\")", n, n)
		}
	}
}
