package lsns

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/nsbox/nsbox/pkg/applet"
	nstype "github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/scols"
)

func TestAddToIDArray(t *testing.T) {
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
		got, err := addToIDArray(tc.list, append([]int(nil), def...))
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
	if _, err := addToIDArray(long, nil); err == nil {
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

// parsed is the plan of lsns ARGS, or the message (as the user sees it)
// and exit status of its refusal; out is what it printed.
func parsed(args ...string) (p *plan, msg string, code int, out string) {
	var stdout bytes.Buffer
	e := &applet.Env{Name: "lsns", Args: args, Stdout: &stdout, Stderr: io.Discard}
	p, done, err := parse(e)
	msg, code = applet.Status("lsns", err)
	if done {
		p = nil
	}
	return p, msg, code, stdout.String()
}

func TestPlan(t *testing.T) {
	var all, netOnly, netUser [nstype.NTypes]bool
	for i := range all {
		all[i] = true
	}
	netOnly[nstype.Net] = true
	netUser[nstype.Net], netUser[nstype.User] = true, true
	deflt := []int{colNS, colType, colNprocs, colPid, colUser, colCommand}
	procs := []int{colPid, colPPid, colUser, colCommand}
	every := make([]int, ncols)
	for i := range every {
		every[i] = i
	}
	for _, tc := range []struct {
		args   []string
		want   plan
		filter bool
	}{
		{nil, plan{types: all, columns: deflt, tree: treeProcess}, false},
		{[]string{"-l"}, plan{types: all, columns: deflt}, false},
		{[]string{"-J"}, plan{types: all, columns: deflt, tree: treeProcess, format: scols.JSON}, false},
		{[]string{"--raw"}, plan{types: all, columns: deflt, tree: treeProcess, format: scols.Raw, noWrap: true}, false},
		{[]string{"-n", "-u", "-W"}, plan{types: all, columns: deflt, tree: treeProcess, noHeadings: true, noTrunc: true, noWrap: true}, false},
		{[]string{"-t", "net"}, plan{types: netOnly, columns: []int{colNS, colType, colNprocs, colPid, colUser, colNetnsid, colNsfs, colCommand}, tree: treeProcess}, false},
		{[]string{"-t", "user", "-tnet", "-o", "NS"}, plan{types: netUser, columns: []int{colNS}, tree: treeProcess}, false},
		{[]string{"-T"}, plan{types: all, columns: deflt, tree: treeOwner}, false},
		{[]string{"-Tparent"}, plan{types: all, columns: deflt, tree: treeParent}, false},
		{[]string{"-T=process"}, plan{types: all, columns: deflt, tree: treeProcess}, false},
		{[]string{"--tree=owner", "-l"}, plan{types: all, columns: deflt, tree: treeOwner}, false},
		{[]string{"-p", "42"}, plan{types: all, columns: deflt, tree: treeProcess, task: 42}, false},
		{[]string{"-P"}, plan{types: all, columns: deflt, tree: treeProcess, persist: true}, false},
		{[]string{"4026531836"}, plan{types: all, columns: procs, tree: treeProcess, ns: 4026531836}, false},
		{[]string{"4026531836", "-l"}, plan{types: all, columns: procs, ns: 4026531836}, false},
		{[]string{"-o", "+PATH", "--", "7"}, plan{types: all, columns: append(procs[:4:4], colPath), tree: treeProcess, ns: 7}, false},
		{[]string{"-o", "ns,Type"}, plan{types: all, columns: []int{colNS, colType}, tree: treeProcess}, false},
		{[]string{"-o", "+PATH,ONS"}, plan{types: all, columns: append(deflt[:6:6], colPath, colONS), tree: treeProcess}, false},
		// --output-all makes a list: the tree is the default columns'
		{[]string{"--output-all"}, plan{types: all, columns: every}, false},
		{[]string{"--output-all", "-o", "+PID"}, plan{types: all, columns: append(every[:ncols:ncols], colPid)}, false},
		{[]string{"-Q", `TYPE == "net" && NPROCS > 1`}, plan{types: all, columns: deflt, tree: treeProcess}, true},
		{[]string{"--dot", "-t", "net"}, plan{action: actDot, types: netOnly, columns: []int{colNS, colType, colNprocs, colPid, colUser, colNetnsid, colNsfs, colCommand}, tree: treeProcess}, false},
		// -H lists the columns and looks at nothing else
		{[]string{"-H", "-r", "-t", "net", "-p", "1", "5"}, plan{action: actColumns, format: scols.Raw, noWrap: true, types: netOnly, task: 1}, false},
	} {
		p, msg, code, _ := parsed(tc.args...)
		if p == nil {
			t.Errorf("lsns %q: refused: %q, status %d", tc.args, msg, code)
			continue
		}
		if (p.filter != nil) != tc.filter {
			t.Errorf("lsns %q: filter %v", tc.args, p.filter)
		}
		p.filter = nil
		if !reflect.DeepEqual(*p, tc.want) {
			t.Errorf("lsns %q:\n got %+v\nwant %+v", tc.args, *p, tc.want)
		}
	}
}

// TestPlanRefused: util-linux's message and exit status for each
// refusal, the first one met in the order util-linux meets them.
func TestPlanRefused(t *testing.T) {
	try := "Try 'lsns --help' for more information.\n"
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-J", "-r"}, "lsns: mutually exclusive arguments: --json --raw\n"},
		{[]string{"-l", "-T", "-r", "--json"}, "lsns: mutually exclusive arguments: --json --raw\n"},
		{[]string{"-p", "1", "--persistent"}, "lsns: mutually exclusive arguments: --persistent --task\n"},
		{[]string{"-o", "FOO"}, "lsns: unknown column: FOO\n"},
		{[]string{"-o", "NS,FOO,TYPE"}, "lsns: unknown column: FOO,TYPE\n"},
		{[]string{"-o", ""}, ""},
		{[]string{"-o", ",NS"}, ""},
		{[]string{"-t", "NET"}, "lsns: unknown namespace type: NET\n"},
		{[]string{"-p", "abc"}, "lsns: invalid PID argument: 'abc'\n"},
		{[]string{"-p", ""}, "lsns: invalid PID argument: ''\n"},
		{[]string{"-p", "99999999999"}, "lsns: invalid PID argument: '99999999999': Numerical result out of range\n"},
		{[]string{"-T", "parent"}, "lsns: invalid namespace argument: 'parent'\n"},
		{[]string{"-Tfoo"}, "lsns: unknown tree type: foo\n"},
		{[]string{"--tree==bogus"}, "lsns: unknown tree type: bogus\n"},
		{[]string{"-p", "1", "5"}, "lsns: --task is mutually exclusive with <namespace>\n"},
		{[]string{"--", "-1"}, "lsns: invalid namespace argument: '-1': Numerical result out of range\n"},
		{[]string{"18446744073709551616"}, "lsns: invalid namespace argument: '18446744073709551616': Numerical result out of range\n"},
		{[]string{"-Q", "NS =="}, "lsns: failed to parse \"NS ==\": syntax error, unexpected end of file\n"},
		// glibc's texts: a "[" that ends the pattern is not an unmatched one
		{[]string{"-Q", `TYPE =~ "["`}, "lsns: failed to parse \"TYPE =~ \"[\"\": Invalid regular expression\n"},
		{[]string{"-Q", `TYPE =~ "[a"`}, "lsns: failed to parse \"TYPE =~ \"[a\"\": Unmatched [, [^, [:, [., or [=\n"},
		{[]string{"-Q", `TYPE =~ "(a)\1"`}, "lsns: failed to parse \"TYPE =~ \"(a)\\1\"\": Back references are not supported\n"},
		{[]string{"--bogus"}, "lsns: unrecognized option '--bogus'\n" + try},
		{[]string{"-Z"}, "lsns: invalid option -- 'Z'\n" + try},
		{[]string{"-p"}, "lsns: option requires an argument -- 'p'\n" + try},
		{[]string{"--task"}, "lsns: option '--task' requires an argument\n" + try},
		{[]string{"--t"}, "lsns: option '--t' is ambiguous; possibilities: '--task' '--type' '--tree'\n" + try},
		{[]string{"-t", "bogus", "-J", "-r"}, "lsns: unknown namespace type: bogus\n"},
		{[]string{"-J", "-r", "-t", "bogus"}, "lsns: mutually exclusive arguments: --json --raw\n"},
		{[]string{"-o", "FOO", "abc"}, "lsns: invalid namespace argument: 'abc'\n"},
	} {
		p, msg, code, _ := parsed(tc.args...)
		if p != nil || msg != tc.msg || code != 1 {
			t.Errorf("lsns %q: plan %v, %q, status %d; want %q, status 1", tc.args, p, msg, code, tc.msg)
		}
	}
}

// TestPlanHelp: --help and --version print, and plan nothing.
func TestPlanHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-J", "--help", "-r"}, {"-V"}, {"--vers"}} {
		p, msg, code, out := parsed(args...)
		if p != nil || msg != "" || code != 0 || out == "" {
			t.Errorf("lsns %q: plan %v, %q, status %d, output %q", args, p, msg, code, out)
		}
	}
	if _, _, _, out := parsed("--help"); out != usage {
		t.Errorf("--help printed %q", out)
	}
}

// TestReads: NETNSID is asked of the kernel when it is shown or filtered on.
func TestReads(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"-t", "net"}, true},
		{[]string{"-o", "NS,netnsid"}, true},
		{[]string{"--output-all"}, true},
		{[]string{"-Q", "netnsid == '4242'"}, true},
		{[]string{"-Q", "NS == 1 || NETNSID =~ '^4'", "-o", "NS"}, true},
		{[]string{"-Q", "NS == 1", "-o", "NS,NSFS"}, false},
	} {
		p, msg, _, _ := parsed(tc.args...)
		if p == nil {
			t.Errorf("lsns %q: %s", tc.args, msg)
			continue
		}
		if got := p.reads(colNetnsid); got != tc.want {
			t.Errorf("lsns %q: reads NETNSID %v, want %v", tc.args, got, tc.want)
		}
	}
}
