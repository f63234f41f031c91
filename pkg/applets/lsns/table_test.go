package lsns

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/nsbox/nsbox/pkg/applet"
)

// fixtureTable is NS TYPE NPROCS NSFS COMMAND over three namespaces, the
// last two children of the first.
func fixtureTable(format int, tree bool, nsfsWrap bool) (*table, *bytes.Buffer) {
	var out bytes.Buffer
	t := &table{w: bufio.NewWriter(&out), format: format, enc: enc{utf8: true}, sym: utf8Symbols, name: "namespaces"}
	add := func(id int, flags int) *column {
		info := infos[id]
		c := t.addColumn(info.name, info.whint, info.flags|flags)
		c.jsonType = info.jsonType
		return c
	}
	add(colNS, 0)
	add(colType, 0)
	add(colNprocs, 0)
	nsfs := add(colNsfs, 0)
	if nsfsWrap {
		nsfs.wrapNL, nsfs.safe = true, "\n"
	} else {
		nsfs.flags &^= flWrap
	}
	treeFlag := 0
	if tree {
		treeFlag = flTree
	}
	add(colCommand, treeFlag)
	sep := ","
	if nsfsWrap {
		sep = "\n"
	}
	rows := [][]string{
		{"4026531837", "user", "71", "", "kthreadd"},
		{"4026532177", "net", "0", "/run/netns/a" + sep + "/tmp/b", ""},
		{"4026532300", "uts", "2", "", "sleep\t60"},
	}
	var first *line
	for i, r := range rows {
		var parent *line
		if i > 0 && tree {
			parent = first
		}
		l := t.newLine(parent)
		if i == 0 {
			first = l
		}
		for c, s := range r {
			if s != "" {
				l.set(c, s)
			}
		}
	}
	return t, &out
}

func TestTableHuman(t *testing.T) {
	tb, out := fixtureTable(fmtHuman, true, true)
	if err := tb.print(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"        NS TYPE  NPROCS NSFS         COMMAND\n" +
		"4026531837 user      71              kthreadd\n" +
		"4026532177 net        0 /run/netns/a ├─\n" +
		"                        /tmp/b       │ \n" +
		"4026532300 uts        2              └─sleep\\x0960\n"
	if got := out.String(); got != want {
		t.Errorf("human tree:\n%s\nwant:\n%s", quoteLines(got), quoteLines(want))
	}
}

func TestTableList(t *testing.T) {
	tb, out := fixtureTable(fmtHuman, false, false)
	tb.noHeadings = true
	if err := tb.print(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"4026531837 user      71                     kthreadd\n" +
		"4026532177 net        0 /run/netns/a,/tmp/b \n" +
		"4026532300 uts        2                     sleep\\x0960\n"
	if got := out.String(); got != want {
		t.Errorf("list:\n%s\nwant:\n%s", quoteLines(got), quoteLines(want))
	}
}

func TestTableRaw(t *testing.T) {
	tb, out := fixtureTable(fmtRaw, true, false)
	if err := tb.print(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"NS TYPE NPROCS NSFS COMMAND\n" +
		"4026531837 user 71  kthreadd\n" +
		"4026532177 net 0 /run/netns/a,/tmp/b \\xe2\\x94\\x9c\\xe2\\x94\\x80\n" +
		"4026532300 uts 2  \\xe2\\x94\\x94\\xe2\\x94\\x80sleep\\x0960\n"
	if got := out.String(); got != want {
		t.Errorf("raw:\n%s\nwant:\n%s", quoteLines(got), quoteLines(want))
	}
}

func TestTableJSON(t *testing.T) {
	tb, out := fixtureTable(fmtJSON, true, true)
	if err := tb.print(); err != nil {
		t.Fatal(err)
	}
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
	if got := out.String(); got != want {
		t.Errorf("json tree:\n%s\nwant:\n%s", got, want)
	}
	tb, out = fixtureTable(fmtJSON, false, false)
	tb.lines = tb.lines[:1]
	tb.lines[0].children = nil
	if err := tb.print(); err != nil {
		t.Fatal(err)
	}
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
	if got := out.String(); got != want {
		t.Errorf("json list:\n%s\nwant:\n%s", got, want)
	}
	tb, out = fixtureTable(fmtJSON, false, false)
	tb.lines = nil
	tb.print()
	if got, want := out.String(), "{\n   \"namespaces\": [\n\n   ]\n}\n"; got != want {
		t.Errorf("empty json: %q, want %q", got, want)
	}
	tb, out = fixtureTable(fmtHuman, false, false)
	tb.lines = nil
	tb.print()
	if out.Len() != 0 {
		t.Errorf("empty table printed %q", out.String())
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
		var out bytes.Buffer
		tb := &table{w: bufio.NewWriter(&out), enc: enc{}, sym: asciiSymbols}
		tb.addColumn("PID", 5, flRight)
		tb.addColumn("TYPE", 5, 0)
		l := tb.newLine(nil)
		l.set(0, tc.pid)
		l.set(1, tc.typ)
		tb.print()
		if out.String() != tc.want {
			t.Errorf("pid %s type %s: %q, want %q", tc.pid, tc.typ, out.String(), tc.want)
		}
	}
}

func TestTableTerminal(t *testing.T) {
	var out bytes.Buffer
	tb := &table{w: bufio.NewWriter(&out), enc: enc{utf8: true}, sym: utf8Symbols, isTerm: true, termWidth: 30}
	tb.addColumn("NS", 10, flRight)
	tb.addColumn("COMMAND", 0, flTrunc)
	tb.addColumn("USER", 0, 0)
	l := tb.newLine(nil)
	l.set(0, "4026531837")
	l.set(1, "a command line that is far too long for the terminal")
	l.set(2, "root")
	tb.print()
	want := "        NS COMMAND        USER\n4026531837 a command line root\n"
	if out.String() != want {
		t.Errorf("terminal:\n%s\nwant:\n%s", quoteLines(out.String()), quoteLines(want))
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
	if got, _ := (enc{}).safeEncode("café", ""); got != `caf\xc3\xa9` {
		t.Errorf("C locale: %q", got)
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
		if got := utf8Locale(env(tc.env)); got != tc.want {
			t.Errorf("utf8Locale(%v) = %v", tc.env, got)
		}
	}
}

func TestAddToIDArray(t *testing.T) {
	e := &applet.Env{Name: "lsns"}
	def := []int{colNS, colType}
	for _, tc := range []struct {
		list string
		want []int
		msg  string // "" with want nil: silent failure
	}{
		{"PID", []int{colPid}, ""},
		{"pid,Type", []int{colPid, colType}, ""},
		{"+PATH", []int{colNS, colType, colPath}, ""},
		{"+path,ons", []int{colNS, colType, colPath, colONS}, ""},
		{"FOO", nil, "unknown column: FOO"},
		{"NS,FOO,TYPE", nil, "unknown column: FOO,TYPE"},
		{"NS,", nil, "unknown column: NS,"},
		{",NS", nil, ""},
		{"NS,,TYPE", nil, ""},
		{"", nil, ""},
		{"+", nil, ""},
	} {
		got, err := addToIDArray(tc.list, append([]int(nil), def...), e)
		if tc.want != nil {
			if err != nil || len(got) != len(tc.want) {
				t.Errorf("%q: %v, %v", tc.list, got, err)
				continue
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("%q: %v, want %v", tc.list, got, tc.want)
				}
			}
			continue
		}
		msg, code := applet.Status("lsns", err)
		want := ""
		if tc.msg != "" {
			want = "lsns: " + tc.msg + "\n"
		}
		if err == nil || code != 1 || msg != want {
			t.Errorf("%q: message %q code %d, want %q 1", tc.list, msg, code, want)
		}
	}
	long := strings.Repeat("NS,", maxColumns) + "NS"
	if _, err := addToIDArray(long, nil, e); err == nil {
		t.Errorf("more than %d columns accepted", maxColumns)
	}
}

func TestNumbers(t *testing.T) {
	for in, want := range map[string]int{"12": 12, " +7": 7, "-5": -5, "2147483647": 2147483647} {
		if got, err := strtos32(in); err != nil || got != want {
			t.Errorf("strtos32(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"abc", "", "12x", "1 2", "2147483648", "99999999999"} {
		if _, err := strtos32(in); err == nil {
			t.Errorf("strtos32(%q) accepted", in)
		}
	}
	for in, want := range map[string]uint64{"4026531837": 4026531837, "18446744073709551615": 1<<64 - 1, "+1": 1, "0": 0} {
		if got, err := strtou64(in); err != nil || got != want {
			t.Errorf("strtou64(%q) = %d, %v", in, got, err)
		}
	}
	for in, msg := range map[string]string{
		"parent":               "lsns: invalid namespace argument: 'parent'\n",
		"-1":                   "lsns: invalid namespace argument: '-1': Numerical result out of range\n",
		"18446744073709551616": "lsns: invalid namespace argument: '18446744073709551616': Numerical result out of range\n",
	} {
		_, err := strtou64(in)
		if got, _ := applet.Status("lsns", strtoxxError("invalid namespace argument", in, err)); got != msg {
			t.Errorf("strtou64(%q): %q, want %q", in, got, msg)
		}
	}
}

func TestPermute(t *testing.T) {
	fs := pflag.NewFlagSet("lsns", pflag.ContinueOnError)
	fs.BoolP("json", "J", false, "")
	fs.StringP("output", "o", "", "")
	fs.StringP("tree", "T", "", "")
	fs.Lookup("tree").NoOptDefVal = "x"
	fs.StringP("task", "p", "", "")
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"-J", "-J"},
		{"123 -J", "-J -- 123"},
		{"-o NS 123 -J", "-o NS -J -- 123"},
		{"123 -o NS", "-o NS -- 123"},
		{"-Jo NS 5", "-Jo NS -- 5"},
		{"-oNS 5", "-oNS -- 5"},
		{"-T parent", "-T -- parent"},
		{"-Tparent", "-Tparent"},
		{"--out NS x", "--out NS -- x"},
		{"--output=NS x", "--output=NS -- x"},
		{"--tree parent", "--tree -- parent"},
		{"-- -J", "-- -J"},
		{"a -- -J", "-- a -J"},
		{"-", "-- -"},
		{"-p", "-p"},
	} {
		var in []string
		if tc.in != "" {
			in = strings.Fields(tc.in)
		}
		if got := strings.Join(permute(fs, in), " "); got != tc.want {
			t.Errorf("permute(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPathIncluded(t *testing.T) {
	for _, tc := range []struct {
		set, elt string
		want     bool
	}{
		{"/a", "/a", true},
		{"/a,/b", "/a", true},
		{"/a,/b", "/b", true},
		{"/ab,/b", "/a", false},
		{"/x/a", "/a", false},
		{"/a,/b/c", "/b", false},
	} {
		if got := pathIncluded(tc.set, tc.elt, ','); got != tc.want {
			t.Errorf("pathIncluded(%q, %q) = %v", tc.set, tc.elt, got)
		}
	}
}

func TestParsePasswd(t *testing.T) {
	names := map[uint32]string{}
	parsePasswd([]byte("root:x:0:0:root:/root:/bin/bash\n# comment\nbad line\nnobody:x:65534:65534::/:/bin/false\ntoor:x:0:0::/:/bin/sh\n+nis::::::\nlast:x:7:7::/:"), names)
	if names[0] != "root" || names[65534] != "nobody" || names[7] != "last" || len(names) != 3 {
		t.Errorf("parsePasswd = %v", names)
	}
	u := users{path: "/nonexistent"}
	if got := u.name(42); got != "42" {
		t.Errorf("unknown uid: %q", got)
	}
}
