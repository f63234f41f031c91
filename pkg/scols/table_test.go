package scols

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// fixtureTable is lsns's NS TYPE NPROCS NSFS COMMAND over three
// namespaces, the last two children of the first; the tree in COMMAND.
func fixtureTable(format Format, tree bool, nsfsWrap bool) *Table {
	t := &Table{Format: format, UTF8: true, Name: "namespaces"}
	add := func(name string, whint float64, flags Flags, jt JSONType) *Column {
		c := t.AddColumn(name, whint, flags)
		c.JSONType = jt
		return c
	}
	add("NS", 10, FlRight, JSONNumber)
	add("TYPE", 5, 0, JSONString)
	add("NPROCS", 5, FlRight, JSONNumber)
	nsfs := add("NSFS", 0, FlWrap, JSONString)
	if nsfsWrap {
		nsfs.WrapNL, nsfs.SafeChars = true, "\n"
	} else {
		nsfs.Flags &^= FlWrap
	}
	treeFlag := Flags(0)
	if tree {
		treeFlag = FlTree
	}
	add("COMMAND", 0, FlTrunc|treeFlag, JSONString)
	sep := ","
	if nsfsWrap {
		sep = "\n"
	}
	rows := [][]string{
		{"4026531837", "user", "71", "", "kthreadd"},
		{"4026532177", "net", "0", "/run/netns/a" + sep + "/tmp/b", ""},
		{"4026532300", "uts", "2", "", "sleep\t60"},
	}
	var first *Line
	for i, r := range rows {
		var parent *Line
		if i > 0 && tree {
			parent = first
		}
		l := t.NewLine(parent)
		if i == 0 {
			first = l
		}
		for c, s := range r {
			if s != "" {
				l.Set(c, s)
			}
		}
	}
	return t
}

// printed is what t prints.
func printed(t *Table) string {
	var out bytes.Buffer
	if err := t.Print(&out); err != nil {
		panic(err)
	}
	return out.String()
}

func TestTableHuman(t *testing.T) {
	out := printed(fixtureTable(Human, true, true))
	want := "" +
		"        NS TYPE  NPROCS NSFS         COMMAND\n" +
		"4026531837 user      71              kthreadd\n" +
		"4026532177 net        0 /run/netns/a ├─\n" +
		"                        /tmp/b       │ \n" +
		"4026532300 uts        2              └─sleep\\x0960\n"
	if got := out; got != want {
		t.Errorf("human tree:\n%s\nwant:\n%s", quoteLines(got), quoteLines(want))
	}
}

func TestTableList(t *testing.T) {
	tb := fixtureTable(Human, false, false)
	tb.NoHeadings = true
	out := printed(tb)
	want := "" +
		"4026531837 user      71                     kthreadd\n" +
		"4026532177 net        0 /run/netns/a,/tmp/b \n" +
		"4026532300 uts        2                     sleep\\x0960\n"
	if got := out; got != want {
		t.Errorf("list:\n%s\nwant:\n%s", quoteLines(got), quoteLines(want))
	}
}

func TestTableRaw(t *testing.T) {
	out := printed(fixtureTable(Raw, true, false))
	want := "" +
		"NS TYPE NPROCS NSFS COMMAND\n" +
		"4026531837 user 71  kthreadd\n" +
		"4026532177 net 0 /run/netns/a,/tmp/b \\xe2\\x94\\x9c\\xe2\\x94\\x80\n" +
		"4026532300 uts 2  \\xe2\\x94\\x94\\xe2\\x94\\x80sleep\\x0960\n"
	if got := out; got != want {
		t.Errorf("raw:\n%s\nwant:\n%s", quoteLines(got), quoteLines(want))
	}
}

func TestTableJSON(t *testing.T) {
	out := printed(fixtureTable(JSON, true, true))
	want := `{
   "namespaces": [
      {
         "ns": 4026531837,
         "type": "user",
         "nprocs": 71,
         "nsfs": null,
         "command": "kthreadd",
         "children": [
            {
               "ns": 4026532177,
               "type": "net",
               "nprocs": 0,
               "nsfs": "/run/netns/a\n/tmp/b",
               "command": null
            },{
               "ns": 4026532300,
               "type": "uts",
               "nprocs": 2,
               "nsfs": null,
               "command": "sleep\t60"
            }
         ]
      }
   ]
}
`
	if got := out; got != want {
		t.Errorf("json tree:\n%s\nwant:\n%s", got, want)
	}
	tb := fixtureTable(JSON, false, false)
	tb.RemoveLine(tb.lines[2])
	tb.RemoveLine(tb.lines[1])
	out = printed(tb)
	want = `{
   "namespaces": [
      {
         "ns": 4026531837,
         "type": "user",
         "nprocs": 71,
         "nsfs": null,
         "command": "kthreadd"
      }
   ]
}
`
	if got := out; got != want {
		t.Errorf("json list:\n%s\nwant:\n%s", got, want)
	}
	tb = fixtureTable(JSON, false, false)
	tb.lines = nil
	if got, want := printed(tb), "{\n   \"namespaces\": [\n\n   ]\n}\n"; got != want {
		t.Errorf("empty json: %q, want %q", got, want)
	}
	tb = fixtureTable(Human, false, false)
	tb.lines = nil
	if got := printed(tb); got != "" {
		t.Errorf("empty table printed %q", got)
	}
}

func TestTableWidthHints(t *testing.T) {
	// PID's hint (5) applies once a value reaches the header's width, not
	// before; TYPE is "user"-wide, so its hint 5 applies too.
	for _, tc := range []struct {
		pid, typ string
		want     string
	}{
		{"7", "net", "PID TYPE\n  7 net\n"},
		{"123", "net", "  PID TYPE\n  123 net\n"},
		{"123456", "user", "   PID TYPE\n123456 user\n"},
	} {
		tb := &Table{}
		tb.AddColumn("PID", 5, FlRight)
		tb.AddColumn("TYPE", 5, 0)
		l := tb.NewLine(nil)
		l.Set(0, tc.pid)
		l.Set(1, tc.typ)
		if got := printed(tb); got != tc.want {
			t.Errorf("pid %s type %s: %q, want %q", tc.pid, tc.typ, got, tc.want)
		}
	}
}

func TestTableTerminal(t *testing.T) {
	tb := &Table{UTF8: true, Terminal: true, TermWidth: 30}
	tb.AddColumn("NS", 10, FlRight)
	tb.AddColumn("COMMAND", 0, FlTrunc)
	tb.AddColumn("USER", 0, 0)
	l := tb.NewLine(nil)
	l.Set(0, "4026531837")
	l.Set(1, "a command line that is far too long for the terminal")
	l.Set(2, "root")
	want := "        NS COMMAND        USER\n4026531837 a command line root\n"
	if got := printed(tb); got != want {
		t.Errorf("terminal:\n%s\nwant:\n%s", quoteLines(got), quoteLines(want))
	}
}

func quoteLines(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString("\t" + strings.ReplaceAll(strings.TrimSuffix(l, "\n"), " ", "·") + "\n")
		}
	}
	return b.String()
}

func TestText(t *testing.T) {
	e := enc{utf8: true}
	for _, tc := range []struct {
		in, safe, want string
		width          int
	}{
		{"plain", "", "plain", 5},
		{"tab\there", "", `tab\x09here`, 11},
		{`back\xslash`, "", `back\x5cxslash`, 14},
		{`back\slash`, "", `back\slash`, 10},
		{"nl\nx", "\n", "nl\nx", 3},
		{"café", "", "café", 4},
		{"wide 日本", "", "wide 日本", 9},
		{"bad \xff byte", "", `bad \xff byte`, 13},
		{"del\x7f", "", `del\x7f`, 7},
	} {
		got, w := e.safeEncode(tc.in, tc.safe)
		if got != tc.want || w != tc.width {
			t.Errorf("safeEncode(%q) = %q, %d; want %q, %d", tc.in, got, w, tc.want, tc.width)
		}
		if tc.safe == "" {
			if sw := e.safeWidth(tc.in); sw != tc.width {
				t.Errorf("safeWidth(%q) = %d, want %d", tc.in, sw, tc.width)
			}
		}
	}
	if got, w := (enc{}).safeEncode("café", ""); got != `caf\xc3\xa9` || w != 11 {
		t.Errorf("C locale: %q, %d", got, w)
	}
	if w := (enc{}).safeWidth("café"); w != 11 {
		t.Errorf("C locale: width %d", w)
	}
	if got, w := e.safeEncode("a\x00b", ""); got != "a" || w != 1 {
		t.Errorf("NUL: %q, %d", got, w)
	}
	var b strings.Builder
	rawText(&b, "a b\\c\td\xe2\x94\x80")
	if got := b.String(); got != `a\x20b\x5cc\x09d\xe2\x94\x80` {
		t.Errorf("rawText: %q", got)
	}
	if s, w := e.truncate("日本語", 5); s != "日本" || w != 4 {
		t.Errorf("truncate: %q %d", s, w)
	}
	var jb bytes.Buffer
	jw := bufio.NewWriter(&jb)
	jsonQuote(jw, "q\"b\\\n\x01é")
	jw.Flush()
	if got := jb.String(); got != `"q\"b\\\n\u0001é"` {
		t.Errorf("jsonQuote: %s", got)
	}
}

func TestUTF8Locale(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"LANG": "C"}, false},
		{map[string]string{"LANG": "POSIX"}, false},
		{map[string]string{"LANG": "C.UTF-8"}, true},
		{map[string]string{"LANG": "C.utf8"}, true},
		{map[string]string{"LANG": "C.UTF-8", "LC_ALL": "C"}, false},
		{map[string]string{"LANG": "C", "LC_CTYPE": "C.UTF-8"}, true},
		{map[string]string{"LANG": "xx_NOWHERE.UTF-8"}, false}, // not installed
		{map[string]string{"LANG": "en_US.ISO-8859-1"}, false},
	} {
		if got := UTF8Locale(env(tc.env)); got != tc.want {
			t.Errorf("UTF8Locale(%v) = %v", tc.env, got)
		}
	}
}
