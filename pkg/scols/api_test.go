package scols

import (
	"errors"
	"os"
	"testing"
)

// tree is a table NAME SIZE over a tree: a with children b and c, b with
// child d; the tree in NAME, or in no column when flat.
func tree(utf8, flat bool) (*Table, map[string]*Line) {
	t := &Table{UTF8: utf8}
	flags := FlTree
	if flat {
		flags = 0
	}
	t.AddColumn("NAME", 0, flags)
	t.AddColumn("SIZE", 0, FlRight)
	lines := map[string]*Line{}
	for _, r := range [][3]string{{"a", "", "1"}, {"b", "a", "22"}, {"d", "b", "333"}, {"c", "a", "4"}} {
		l := t.NewLine(lines[r[1]])
		l.Set(0, r[0])
		l.Set(1, r[2])
		lines[r[0]] = l
	}
	return t, lines
}

func TestTreeASCII(t *testing.T) {
	tb, _ := tree(false, false)
	want := "" +
		"NAME  SIZE\n" +
		"a        1\n" +
		"|-b     22\n" +
		"| `-d  333\n" +
		"`-c      4\n"
	if got := printed(tb); got != want {
		t.Errorf("ascii tree:\n%s\nwant:\n%s", quoteLines(got), quoteLines(want))
	}
}

// TestRemoveLine: a removed line leaves its parent's chart as if it had
// never been added.
func TestRemoveLine(t *testing.T) {
	tb, lines := tree(true, false)
	tb.RemoveLine(lines["c"])
	want := "" +
		"NAME  SIZE\n" +
		"a        1\n" +
		"└─b     22\n" +
		"  └─d  333\n"
	if got := printed(tb); got != want {
		t.Errorf("after RemoveLine:\n%s\nwant:\n%s", quoteLines(got), quoteLines(want))
	}
	if s, ok := lines["b"].Get(1); s != "22" || !ok {
		t.Errorf("Get: %q %v", s, ok)
	}
	l := tb.NewLine(nil)
	if s, ok := l.Get(0); s != "" || ok {
		t.Errorf("Get of an unset cell: %q %v", s, ok)
	}
}

// TestHidden: a hidden column is not printed, and the column before it is
// then the last one (not padded).
func TestHidden(t *testing.T) {
	tb, _ := tree(true, true)
	tb.AddColumn("SECRET", 0, FlHidden)
	tb.Format = Raw
	if got, want := printed(tb), "NAME SIZE\na 1\nb 22\nd 333\nc 4\n"; got != want {
		t.Errorf("raw with a hidden column: %q, want %q", got, want)
	}
	tb.Format = Human
	tb.cols[1].Flags = 0 // SIZE left-aligned: the last column is not padded
	if got, want := printed(tb), "NAME SIZE\na    1\nb    22\nd    333\nc    4\n"; got != want {
		t.Errorf("human with a hidden column: %q, want %q", got, want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPrintError(t *testing.T) {
	tb, _ := tree(true, false)
	if err := tb.Print(failWriter{}); err == nil || err.Error() != "disk full" {
		t.Errorf("Print to a failing writer: %v", err)
	}
}

func TestTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(int(w.Fd())) {
		t.Errorf("a pipe is a terminal")
	}
	env := func(cols string) func(string) string {
		return func(k string) string {
			if k == "COLUMNS" {
				return cols
			}
			return ""
		}
	}
	for cols, want := range map[string]int{"": 80, "132": 132, "0": 80, "-5": 80, "wide": 80} {
		if got := TermWidth(int(w.Fd()), env(cols)); got != want {
			t.Errorf("TermWidth of a pipe with COLUMNS=%q: %d, want %d", cols, got, want)
		}
	}
}
