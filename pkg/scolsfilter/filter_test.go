package scolsfilter

import (
	"fmt"
	"strings"
	"testing"
)

// The fixture's columns, lsns's: the index of a name is its column, the
// number columns are read as DataU64.
const (
	colNS = iota
	colType
	colNprocs
	colPid
	colCommand
	colUser
	colNetnsid
	colNsfs
	colPNS
	colONS
)

var columns = [...]struct {
	name   string
	number bool
}{
	colNS: {"NS", true}, colType: {"TYPE", false}, colNprocs: {"NPROCS", true}, colPid: {"PID", true},
	colCommand: {"COMMAND", false}, colUser: {"USER", false}, colNetnsid: {"NETNSID", false},
	colNsfs: {"NSFS", false}, colPNS: {"PNS", true}, colONS: {"ONS", true},
}

// row is a fixture row: column -> cell text ("" and absent: no data).
type row map[int]string

func (r row) Cell(col int) (string, bool) {
	s, ok := r[col]
	return s, ok && s != ""
}

// bind binds the filter's columns to the fixture's, names matched without
// regard to case.
func bind(t *testing.T, f *Filter) {
	t.Helper()
	for _, h := range f.Holders() {
		h.Col = -1
		for i, c := range columns {
			if strings.EqualFold(c.name, h.Name) {
				h.Col, h.Type = i, DataString
				if c.number {
					h.Type = DataU64
				}
			}
		}
		if h.Col < 0 {
			t.Fatalf("unknown column %q", h.Name)
		}
	}
}

func TestFilterEval(t *testing.T) {
	net := row{colNS: "4026532177", colType: "net", colNprocs: "1", colPid: "4242", colCommand: "sleep 60", colUser: "root", colNetnsid: "unassigned", colONS: "4026531837", colPNS: "0"}
	pinned := row{colNS: "4026532300", colType: "net", colNprocs: "0", colUser: "root", colNsfs: "/run/netns/a", colONS: "4026531837"}
	tests := []struct {
		expr string
		r    row
		want bool
	}{
		{`NS == 4026532177 && NPROCS == 1`, net, true},
		{`NS == 4026532177 && NPROCS == 2`, net, false},
		{`ns eq 4026532177 and nprocs EQ 1`, net, true},
		{`TYPE == "net"`, net, true},
		{`TYPE == 'net'`, net, true},
		{`TYPE == " net "`, net, true}, // strings are trimmed
		{`TYPE != "net"`, net, false},
		{`TYPE ne "mnt"`, net, true},
		{`NPROCS > 0`, net, true},
		{`NPROCS gt 0`, pinned, false},
		{`NPROCS >= 0 && NPROCS <= 0`, pinned, true},
		{`NPROCS lt 1`, pinned, true},
		{`NPROCS le 1 && NPROCS ge 1`, net, true},
		{`!(TYPE == "net")`, net, false},
		{`not TYPE == "mnt"`, net, true},
		{`NOT NPROCS`, pinned, true},
		{`NPROCS`, net, true},
		{`PID`, pinned, false}, // empty cell
		{`PID > 0`, pinned, false},
		{`PID == 0`, pinned, false}, // an empty number compares false
		{`PID != 0`, pinned, false},
		{`COMMAND`, net, true},
		{`NSFS`, net, false},
		{`NSFS == "/run/netns/a"`, pinned, true},
		{`NSFS != "x"`, net, true}, // an empty string is less than any
		{`NSFS < "a"`, net, true},
		{`COMMAND =~ "^sl.*p [0-9]+$"`, net, true},
		{`COMMAND !~ "^sl"`, net, false},
		{`NS =~ "^40265321"`, net, true}, // a number column matched as text
		{`TYPE =~ "^(mnt|uts)$"`, net, false},
		// && and || bind equally, from the left
		{`TYPE == "mnt" || TYPE == "net" && NPROCS == 2`, net, false},
		{`TYPE == "mnt" || (TYPE == "net" && NPROCS == 1)`, net, true},
		{`NPROCS == 0 || TYPE == "net" && USER == "root"`, net, true},
		{`(NPROCS == 0)`, pinned, true},
		{`true`, net, true},
		{`FALSE || TRUE`, net, true},
		{`NS > 4K`, net, true},
		{`NPROCS < 1KiB`, net, true},
		{`1024 == 1K`, net, true},
		{`NPROCS == 1.0`, net, true},
		{`NPROCS > 0.5`, net, true},
		{`NPROCS < 0.5`, pinned, true},
		{`(NPROCS == 1) == true`, net, true},
		{`ONS == 4026531837 and PNS == 0`, net, true},
		{`NETNSID == "unassigned"`, net, true},
	}
	for _, tc := range tests {
		f, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.expr, err)
			continue
		}
		bind(t, f)
		got, err := f.Match(tc.r)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%q on %v = %v, want %v", tc.expr, tc.r, got, tc.want)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	for expr, want := range map[string]string{
		`NS ==`:                "syntax error, unexpected end of file",
		`(NS == 1`:             "syntax error, unexpected end of file",
		`NS == 1)`:             "syntax error, unexpected ')'",
		`== 1`:                 "syntax error, unexpected EQ",
		`NS 1`:                 "syntax error, unexpected NUMBER",
		`'abc`:                 `syntax error, unexpected '\''`,
		``:                     "syntax error, unexpected end of file",
		`TYPE =~ "("`:          "Unmatched ( or \\(",
		`TYPE =~ "[a"`:         "Unmatched [, [^, [:, [., or [=",
		`TYPE =~ TYPE`:         "syntax error, the regular expression is not a string",
		`NS > 99999999999999Y`: `"99999999999999Y" token error: Numerical result out of range`,
	} {
		_, err := Parse(expr)
		if err == nil || err.Error() != want {
			t.Errorf("Parse(%q) = %v, want %q", expr, err, want)
		}
	}
	// a string column compared with a number: the cell must parse
	f, err := Parse(`TYPE == 5`)
	if err != nil {
		t.Fatal(err)
	}
	bind(t, f)
	if _, err := f.Match(row{colType: "net"}); err == nil {
		t.Errorf("TYPE == 5 on net: no error")
	}
}

func TestLex(t *testing.T) {
	toks, err := lex(`a.b:c/d-e_f%g==1&&"x y"||'z'!=!~=~<=>=<>!(3.25)NOTand`)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, tk := range toks {
		kinds = append(kinds, tokName(tk.kind))
	}
	want := "HOLDER EQ NUMBER AND STRING OR STRING NE NREG REG LE GE LT GT NEG '(' FLOAT ')' HOLDER end of file"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("lex:\n got %s\nwant %s", got, want)
	}
	if toks[0].text != "a.b:c/d-e_f%g" {
		t.Errorf("holder %q", toks[0].text)
	}
	if toks[16].fnum != 3.25 {
		t.Errorf("float %v", toks[16].fnum)
	}
	for in, want := range map[string]uint64{"0": 0, "42": 42, "1K": 1024, "2KiB": 2048, "3M": 3 << 20, "1G": 1 << 30, "1E": 1 << 60} {
		toks, err := lex(in)
		if err != nil || toks[0].kind != tNumber || toks[0].num != want {
			t.Errorf("lex(%q) = %+v, %v; want %d", in, toks, err, want)
		}
	}
}

// TestLexSkips: what no rule matches is skipped, and a quote that is not
// closed on its line is not a string.
func TestLexSkips(t *testing.T) {
	for in, want := range map[string]string{
		`NS = 1 "open`:         "HOLDER NUMBER HOLDER end of file",
		`'x`:                   `'\'' HOLDER end of file`,
		"\"a\nb\"":             "HOLDER HOLDER end of file",
		`NS & 1 | 2 ; ~`:       "HOLDER NUMBER NUMBER end of file",
		"99999999999999999999": "NUMBER end of file",
	} {
		toks, err := lex(in)
		if err != nil {
			t.Errorf("lex(%q): %v", in, err)
			continue
		}
		var kinds []string
		for _, tk := range toks {
			kinds = append(kinds, tokName(tk.kind))
		}
		if got := strings.Join(kinds, " "); got != want {
			t.Errorf("lex(%q) = %s, want %s", in, got, want)
		}
	}
	if toks, _ := lex("99999999999999999999"); toks[0].num != 1<<64-1 {
		t.Errorf("an overlong number is %d, not the largest (strtoumax saturates)", toks[0].num)
	}
}

// TestHolders: every column name of the expression, in order, once per
// occurrence, as written.
func TestHolders(t *testing.T) {
	f, err := Parse(`NS > 1 && ns < 5 || !(TYPE =~ "^n") || 3 == NPROCS`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range f.Holders() {
		names = append(names, h.Name)
	}
	if got := strings.Join(names, " "); got != "NS ns TYPE NPROCS" {
		t.Errorf("holders: %s", got)
	}
	if f, _ := Parse(`1 == 1`); len(f.Holders()) != 0 {
		t.Errorf("holders of a constant expression: %v", f.Holders())
	}
}

// countingRow records the columns a filter reads.
type countingRow struct {
	row
	read []int
}

func (r *countingRow) Cell(col int) (string, bool) {
	r.read = append(r.read, col)
	return r.row.Cell(col)
}

// TestMatchReadsLazily: && and || stop at the first side that decides, and
// a cell is read only when the expression gets to it.
func TestMatchReadsLazily(t *testing.T) {
	r := row{colNS: "1", colType: "net", colPid: "7"}
	for _, tc := range []struct {
		expr string
		want bool
		read []int
	}{
		{`false && NS == 1`, false, nil},
		{`NS == 1 || TYPE == "x"`, true, []int{colNS}},
		{`NS == 2 || TYPE == "net"`, true, []int{colNS, colType}},
		{`NS == 2 && PID == 7`, false, []int{colNS}},
	} {
		f, err := Parse(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		bind(t, f)
		cr := &countingRow{row: r}
		got, err := f.Match(cr)
		if err != nil || got != tc.want || fmt.Sprint(cr.read) != fmt.Sprint(tc.read) {
			t.Errorf("%q: %v, %v, read %v; want %v, read %v", tc.expr, got, err, cr.read, tc.want, tc.read)
		}
	}
}

// TestUnboundHolder: a column of DataNone is text that takes the type of
// the other side.
func TestUnboundHolder(t *testing.T) {
	r := row{0: "010"}
	for expr, want := range map[string]bool{
		`X == 10`:      true, // read as a number
		`X == "10"`:    false,
		`X == "010"`:   true,
		`X > 9.5`:      true,
		`X =~ "^0"`:    true,
		`X`:            true,
		`X && X != ""`: true,
	} {
		f, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Match(r) // every Holder: Col 0, DataNone
		if err != nil || got != want {
			t.Errorf("%s on X=010: %v, %v; want %v", expr, got, err, want)
		}
	}
}

func TestParseU64(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "42": 42, " \t+7": 7, "007": 7, "18446744073709551615": 1<<64 - 1} {
		if got, ok := parseU64(in); !ok || got != want {
			t.Errorf("parseU64(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "+", "-1", "-0", "++1", "1 ", "0x10", "1_000", "18446744073709551616", "net"} {
		if _, ok := parseU64(in); ok {
			t.Errorf("parseU64(%q) accepted", in)
		}
	}
}
