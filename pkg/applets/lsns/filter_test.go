package lsns

import (
	"strings"
	"testing"
)

// row is a fixture row: column id -> cell text ("" and absent: no data).
type row map[int]string

// bind resolves the filter's columns the way initFilter does, to column
// ids used directly as indexes.
func bind(t *testing.T, f *filter) {
	t.Helper()
	for _, h := range f.holders {
		id := columnID(h.holder)
		if id < 0 {
			t.Fatalf("unknown column %q", h.holder)
		}
		h.col = id
		h.typ = dString
		if infos[id].jsonType == jsonNumber {
			h.typ = dU64
		}
	}
}

func (r row) get(col int) (string, bool) {
	s, ok := r[col]
	return s, ok && s != ""
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
		f, err := parseFilter(tc.expr)
		if err != nil {
			t.Errorf("parseFilter(%q): %v", tc.expr, err)
			continue
		}
		bind(t, f)
		got, err := f.match(tc.r.get)
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
		_, err := parseFilter(expr)
		if err == nil || err.Error() != want {
			t.Errorf("parseFilter(%q) = %v, want %q", expr, err, want)
		}
	}
	// a string column compared with a number: the cell must parse
	f, err := parseFilter(`TYPE == 5`)
	if err != nil {
		t.Fatal(err)
	}
	bind(t, f)
	if _, err := f.match(row{colType: "net"}.get); err == nil {
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
