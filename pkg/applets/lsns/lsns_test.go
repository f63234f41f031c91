package lsns

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/nsbox/nsbox/pkg/applet"
)

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
