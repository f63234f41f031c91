package applet

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// testNoFile is the value a namespace option gets without =FILE, as the
// unshare applet defines it.
const testNoFile = "\x00"

// unshareLikeFlags defines the unshare applet's options the way
// pkg/applets/unshare does (same names, shorthands, argument kinds and
// order), on a flag set from NewFlags.
func unshareLikeFlags(e *Env) *pflag.FlagSet {
	fs := NewFlags(e)
	for _, o := range []struct{ long, short string }{
		{"mount", "m"}, {"uts", "u"}, {"ipc", "i"}, {"net", "n"},
		{"pid", "p"}, {"user", "U"}, {"cgroup", "C"}, {"time", "T"},
	} {
		fs.StringP(o.long, o.short, "", "")
		fs.Lookup(o.long).NoOptDefVal = testNoFile
	}
	fs.BoolP("fork", "f", false, "")
	fs.String("map-user", "", "")
	fs.String("map-group", "", "")
	fs.BoolP("map-root-user", "r", false, "")
	fs.BoolP("map-current-user", "c", false, "")
	fs.Bool("map-auto", false, "")
	fs.Bool("map-subids", false, "")
	fs.String("map-users", "", "")
	fs.String("map-groups", "", "")
	fs.String("owner", "", "")
	fs.String("kill-child", "", "")
	fs.Lookup("kill-child").NoOptDefVal = "KILL"
	fs.Bool("forward-signals", false, "")
	fs.String("mount-proc", "", "")
	fs.Lookup("mount-proc").NoOptDefVal = "/proc"
	fs.String("mount-binfmt", "", "")
	fs.Lookup("mount-binfmt").NoOptDefVal = "/proc/sys/fs/binfmt_misc"
	fs.StringP("load-interp", "l", "", "")
	fs.String("propagation", "", "")
	fs.String("setgroups", "", "")
	fs.Bool("keep-caps", false, "")
	fs.StringP("root", "R", "", "")
	fs.StringP("wd", "w", "", "")
	fs.StringP("setuid", "S", "", "")
	fs.StringP("setgid", "G", "", "")
	fs.String("monotonic", "", "")
	fs.String("boottime", "", "")
	fs.Bool("clear-env", false, "")
	fs.String("whitelist-env", "", "")
	fs.String("hostname", "", "")
	fs.Bool("init", false, "")
	fs.String("pid-file", "", "")
	fs.String("ready-fd", "", "")
	return fs
}

// util238Flags is the subset util-linux 2.38 has around "--fo": fork but
// no forward-signals (added in 2.42).
func util238Flags(e *Env) *pflag.FlagSet {
	fs := NewFlags(e)
	fs.BoolP("fork", "f", false, "")
	fs.String("kill-child", "", "")
	fs.Lookup("kill-child").NoOptDefVal = "KILL"
	fs.StringP("setuid", "S", "", "")
	return fs
}

// nsenterLikeFlags marks -n as "n::" (OptionalShort), as nsenter does.
func nsenterLikeFlags(e *Env) *pflag.FlagSet {
	fs := NewFlags(e)
	for _, o := range []struct{ long, short string }{{"net", "n"}, {"uts", "u"}} {
		fs.StringP(o.long, o.short, "", "")
		fs.Lookup(o.long).NoOptDefVal = testNoFile
		if err := fs.SetAnnotation(o.long, OptionalShort, []string{"1"}); err != nil {
			panic(err)
		}
	}
	fs.StringP("target", "t", "", "")
	fs.BoolP("follow-context", "F", false, "")
	return fs
}

func newEnv(args ...string) *Env {
	return &Env{Name: "unshare", Args: args, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name  string
		flags func(*Env) *pflag.FlagSet
		args  []string
		canon []string
		rest  []string
	}{
		{"empty", unshareLikeFlags, nil, nil, nil},
		{"short cluster", unshareLikeFlags, []string{"-uipnmU"},
			[]string{"--uts", "--ipc", "--pid", "--net", "--mount", "--user"}, nil},
		{"short cluster then operand", unshareLikeFlags, []string{"-Cf", "true"},
			[]string{"--cgroup", "--fork"}, []string{"true"}},
		{"short required attached", unshareLikeFlags, []string{"-Sfoo"}, []string{"--setuid=foo"}, nil},
		{"short required separate", unshareLikeFlags, []string{"-S", "foo"}, []string{"--setuid=foo"}, nil},
		{"short required ends cluster", unshareLikeFlags, []string{"-uS0", "x"},
			[]string{"--uts", "--setuid=0"}, []string{"x"}},
		{"short required in cluster takes next word", unshareLikeFlags, []string{"-fS", "1", "id"},
			[]string{"--fork", "--setuid=1"}, []string{"id"}},
		{"short required value starting with dash", unshareLikeFlags, []string{"-S", "-1"},
			[]string{"--setuid=-1"}, nil},
		{"short required empty value", unshareLikeFlags, []string{"-S", ""},
			[]string{"--setuid="}, nil},
		{"long required attached", unshareLikeFlags, []string{"--setuid=1"}, []string{"--setuid=1"}, nil},
		{"long required separate", unshareLikeFlags, []string{"--setuid", "1"}, []string{"--setuid=1"}, nil},
		{"long required empty attached", unshareLikeFlags, []string{"--setuid="}, []string{"--setuid="}, nil},
		{"long required takes option-like word", unshareLikeFlags, []string{"--setuid", "--fork"},
			[]string{"--setuid=--fork"}, nil},
		{"long required value with =", unshareLikeFlags, []string{"--whitelist-env=A=B"},
			[]string{"--whitelist-env=A=B"}, nil},
		{"long optional bare", unshareLikeFlags, []string{"--net"}, []string{"--net"}, nil},
		{"long optional attached", unshareLikeFlags, []string{"--net=FILE"}, []string{"--net=FILE"}, nil},
		{"long optional separate is operand", unshareLikeFlags, []string{"--net", "FILE"},
			[]string{"--net"}, []string{"FILE"}},
		{"long optional empty attached", unshareLikeFlags, []string{"--kill-child="},
			[]string{"--kill-child="}, nil},
		{"short optional not annotated takes no arg", unshareLikeFlags, []string{"-n", "FILE"},
			[]string{"--net"}, []string{"FILE"}},
		{"abbrev map-root", unshareLikeFlags, []string{"--map-root"}, []string{"--map-root-user"}, nil},
		{"abbrev map-cur", unshareLikeFlags, []string{"--map-cur"}, []string{"--map-current-user"}, nil},
		{"abbrev with value", unshareLikeFlags, []string{"--propag=shared"},
			[]string{"--propagation=shared"}, nil},
		{"abbrev required separate", unshareLikeFlags, []string{"--setu", "5"}, []string{"--setuid=5"}, nil},
		{"abbrev optional", unshareLikeFlags, []string{"--mount-p"}, []string{"--mount-proc"}, nil},
		{"exact beats longer prefix", unshareLikeFlags, []string{"--map-user=0"},
			[]string{"--map-user=0"}, nil},
		{"exact longer", unshareLikeFlags, []string{"--map-users=0:1:1"},
			[]string{"--map-users=0:1:1"}, nil},
		{"exact mount beats mount-proc", unshareLikeFlags, []string{"--mount"}, []string{"--mount"}, nil},
		{"abbrev --fo in 2.38 set", util238Flags, []string{"--fo"}, []string{"--fork"}, nil},
		{"abbrev --he", unshareLikeFlags, []string{"--he"}, []string{"--help"}, nil},
		{"double dash stops", unshareLikeFlags, []string{"-u", "--", "-i"}, []string{"--uts"}, []string{"-i"}},
		{"double dash only", unshareLikeFlags, []string{"--"}, nil, []string{}},
		{"double dash then double dash", unshareLikeFlags, []string{"--", "--"}, nil, []string{"--"}},
		{"first non-option stops", unshareLikeFlags, []string{"-u", "sh", "-c", "x"},
			[]string{"--uts"}, []string{"sh", "-c", "x"}},
		{"options after operand are operands", unshareLikeFlags, []string{"sh", "-u", "--fork"},
			nil, []string{"sh", "-u", "--fork"}},
		{"lone dash is operand", unshareLikeFlags, []string{"-f", "-", "-u"},
			[]string{"--fork"}, []string{"-", "-u"}},
		{"empty word is operand", unshareLikeFlags, []string{"", "-u"}, nil, []string{"", "-u"}},
		{"annotated short optional attached", nsenterLikeFlags, []string{"-nFILE"},
			[]string{"--net=FILE"}, nil},
		{"annotated short optional bare", nsenterLikeFlags, []string{"-n", "FILE"},
			[]string{"--net"}, []string{"FILE"}},
		{"annotated short optional swallows the cluster", nsenterLikeFlags, []string{"-nu"},
			[]string{"--net=u"}, nil},
		{"annotated short optional swallows the rest of the cluster", nsenterLikeFlags, []string{"-un"},
			[]string{"--uts=n"}, nil},
		{"annotated short optional last in cluster", nsenterLikeFlags, []string{"-Fn"},
			[]string{"--follow-context", "--net"}, nil},
		{"annotated with target", nsenterLikeFlags, []string{"-t", "1", "-n/run/netns/x", "ip"},
			[]string{"--target=1", "--net=/run/netns/x"}, []string{"ip"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(tc.args...)
			canon, rest, err := canonical(tc.flags(e), tc.args)
			if err != nil {
				t.Fatalf("canonical(%q): %v", tc.args, err)
			}
			if !reflect.DeepEqual(canon, tc.canon) {
				t.Errorf("canonical(%q) canon = %q, want %q", tc.args, canon, tc.canon)
			}
			if len(rest) != 0 || len(tc.rest) != 0 {
				if !reflect.DeepEqual(rest, tc.rest) {
					t.Errorf("canonical(%q) rest = %q, want %q", tc.args, rest, tc.rest)
				}
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	type want map[string]string // flag name -> value (only changed flags)
	tests := []struct {
		name  string
		flags func(*Env) *pflag.FlagSet
		args  []string
		want  want
		rest  []string
	}{
		{"cluster", unshareLikeFlags, []string{"-uipnmU"},
			want{"uts": testNoFile, "ipc": testNoFile, "pid": testNoFile, "net": testNoFile,
				"mount": testNoFile, "user": testNoFile}, nil},
		{"-Sfoo", unshareLikeFlags, []string{"-Sfoo"}, want{"setuid": "foo"}, nil},
		{"-S foo", unshareLikeFlags, []string{"-S", "foo"}, want{"setuid": "foo"}, nil},
		{"--setuid=1", unshareLikeFlags, []string{"--setuid=1"}, want{"setuid": "1"}, nil},
		{"--setuid 1", unshareLikeFlags, []string{"--setuid", "1"}, want{"setuid": "1"}, nil},
		{"--net", unshareLikeFlags, []string{"--net"}, want{"net": testNoFile}, nil},
		{"--net=FILE", unshareLikeFlags, []string{"--net=FILE"}, want{"net": "FILE"}, nil},
		{"--net FILE", unshareLikeFlags, []string{"--net", "FILE"}, want{"net": testNoFile}, []string{"FILE"}},
		{"--net=path with = and spaces", unshareLikeFlags, []string{"--net=/tmp/a b=c"},
			want{"net": "/tmp/a b=c"}, nil},
		{"--kill-child", unshareLikeFlags, []string{"--kill-child"}, want{"kill-child": "KILL"}, nil},
		{"--kill-child=TERM", unshareLikeFlags, []string{"--kill-child=TERM"}, want{"kill-child": "TERM"}, nil},
		{"--kill-child= (empty)", unshareLikeFlags, []string{"--kill-child="}, want{"kill-child": ""}, nil},
		{"--mount-proc", unshareLikeFlags, []string{"--mount-proc"}, want{"mount-proc": "/proc"}, nil},
		{"--map-root", unshareLikeFlags, []string{"--map-root"}, want{"map-root-user": "true"}, nil},
		{"--fo (2.38 set)", util238Flags, []string{"--fo"}, want{"fork": "true"}, nil},
		{"-r -f", unshareLikeFlags, []string{"-rf", "id"}, want{"map-root-user": "true", "fork": "true"}, []string{"id"}},
		{"sh -c x", unshareLikeFlags, []string{"-u", "sh", "-c", "x"}, want{"uts": testNoFile},
			[]string{"sh", "-c", "x"}},
		{"-- -u", unshareLikeFlags, []string{"--", "-u"}, want{}, []string{"-u"}},
		{"last one wins", unshareLikeFlags, []string{"-S", "1", "--setuid=2"}, want{"setuid": "2"}, nil},
		{"-nFILE annotated", nsenterLikeFlags, []string{"-nFILE"}, want{"net": "FILE"}, nil},
		{"-n annotated bare", nsenterLikeFlags, []string{"-n"}, want{"net": testNoFile}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(tc.args...)
			fs := tc.flags(e)
			rest, done, err := Parse(e, fs, "usage\n")
			if err != nil || done {
				t.Fatalf("Parse(%q) = done %v, err %v", tc.args, done, err)
			}
			got := want{}
			fs.Visit(func(f *pflag.Flag) { got[f.Name] = f.Value.String() })
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q) set %q, want %q", tc.args, got, tc.want)
			}
			if len(rest) != 0 || len(tc.rest) != 0 {
				if !reflect.DeepEqual(rest, tc.rest) {
					t.Errorf("Parse(%q) rest = %q, want %q", tc.args, rest, tc.rest)
				}
			}
			if s := e.Stdout.(*bytes.Buffer).String(); s != "" {
				t.Errorf("Parse(%q) wrote %q to stdout", tc.args, s)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		flags func(*Env) *pflag.FlagSet
		args  []string
		msg   string
	}{
		{"unknown long", unshareLikeFlags, []string{"--bogus"}, "unrecognized option '--bogus'"},
		{"unknown long with value", unshareLikeFlags, []string{"--bogus=1"}, "unrecognized option '--bogus=1'"},
		{"unknown short", unshareLikeFlags, []string{"-Z"}, "invalid option -- 'Z'"},
		{"unknown short in cluster", unshareLikeFlags, []string{"-uZi"}, "invalid option -- 'Z'"},
		{"= is not a short option", unshareLikeFlags, []string{"-u="}, "invalid option -- '='"},
		{"long missing arg", unshareLikeFlags, []string{"--setuid"}, "option '--setuid' requires an argument"},
		{"abbrev long missing arg names the option", unshareLikeFlags, []string{"--setu"},
			"option '--setuid' requires an argument"},
		{"short missing arg", unshareLikeFlags, []string{"-S"}, "option requires an argument -- 'S'"},
		{"short missing arg at end of cluster", unshareLikeFlags, []string{"-fG"}, "option requires an argument -- 'G'"},
		{"bool with value", unshareLikeFlags, []string{"--fork=1"}, "option '--fork' doesn't allow an argument"},
		{"abbrev bool with value names the option", unshareLikeFlags, []string{"--keep=1"},
			"option '--keep-caps' doesn't allow an argument"},
		{"bool with empty value", unshareLikeFlags, []string{"--fork="}, "option '--fork' doesn't allow an argument"},
		{"help with value", unshareLikeFlags, []string{"--help=x"}, "option '--help' doesn't allow an argument"},
		{"not annotated -nFILE", unshareLikeFlags, []string{"-nFILE"}, "invalid option -- 'F'"},
		{"error after good options", unshareLikeFlags, []string{"-u", "-f", "--bogus"}, "unrecognized option '--bogus'"},
		{"--fo with forward-signals", unshareLikeFlags, []string{"--fo"},
			"option '--fo' is ambiguous; possibilities: '--fork' '--forward-signals'"},
		{"--map-g", unshareLikeFlags, []string{"--map-g"},
			"option '--map-g' is ambiguous; possibilities: '--map-group' '--map-groups'"},
		{"--set", unshareLikeFlags, []string{"--set", "x"},
			"option '--set' is ambiguous; possibilities: '--setgroups' '--setuid' '--setgid'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(tc.args...)
			_, done, err := Parse(e, tc.flags(e), "usage\n")
			var us *Usage
			if !errors.As(err, &us) {
				t.Fatalf("Parse(%q) = done %v, err %v (%T), want *Usage", tc.args, done, err, err)
			}
			if us.Msg != tc.msg {
				t.Errorf("Parse(%q) error\n got %q\nwant %q", tc.args, us.Msg, tc.msg)
			}
		})
	}
}

func TestParseAmbiguousMap(t *testing.T) {
	e := newEnv("--map")
	_, _, err := Parse(e, unshareLikeFlags(e), "usage\n")
	var us *Usage
	if !errors.As(err, &us) {
		t.Fatalf("Parse(--map) = %v, want *Usage", err)
	}
	const prefix = "option '--map' is ambiguous; possibilities: '--map-"
	if !strings.HasPrefix(us.Msg, prefix) {
		t.Errorf("message %q does not start with %q", us.Msg, prefix)
	}
	for _, c := range []string{"map-user", "map-users", "map-group", "map-groups", "map-root-user",
		"map-current-user", "map-auto", "map-subids"} {
		if !strings.Contains(us.Msg, " '--"+c+"'") {
			t.Errorf("message %q does not list '--%s'", us.Msg, c)
		}
	}
	_, list, _ := strings.Cut(us.Msg, "possibilities:")
	if n := strings.Count(list, " '--"); n != 8 {
		t.Errorf("message %q lists %d candidates, want 8", us.Msg, n)
	}
	msg, code := Status("unshare", err)
	if code != 1 || !strings.HasPrefix(msg, "unshare: "+prefix) ||
		!strings.HasSuffix(msg, "'\nTry 'unshare --help' for more information.\n") {
		t.Errorf("Status = %q, %d", msg, code)
	}
}

// glibc echoes what was typed, "=VALUE" included, for an ambiguous
// abbreviation: util-linux 2.38.1 `unshare --map=1` prints
// "unshare: option '--map=1' is ambiguous; possibilities: ...".
func TestParseAmbiguousWithValue(t *testing.T) {
	e := newEnv("--map=1")
	_, _, err := Parse(e, unshareLikeFlags(e), "usage\n")
	var us *Usage
	if !errors.As(err, &us) {
		t.Fatalf("Parse(--map=1) = %v, want *Usage", err)
	}
	const prefix = "option '--map=1' is ambiguous; possibilities: '--map-"
	if strings.HasPrefix(us.Msg, "option '--map' is ambiguous") {
		t.Errorf("`unshare --map=1` gives %q; glibc/util-linux 2.38.1 says \"option '--map=1' is ambiguous; possibilities: ...\" (the typed word, =VALUE included)", us.Msg)
	}
	if !strings.HasPrefix(us.Msg, prefix) {
		t.Errorf("message %q does not start with %q", us.Msg, prefix)
	}
}

func TestParseHelpVersion(t *testing.T) {
	tests := []struct {
		args []string
		out  string
	}{
		{[]string{"--help"}, "USAGE TEXT\n"},
		{[]string{"-h"}, "USAGE TEXT\n"},
		{[]string{"--he"}, "USAGE TEXT\n"},
		{[]string{"-u", "-h", "sh"}, "USAGE TEXT\n"},
		{[]string{"--version"}, "unshare from nsbox " + Release() + "\n"},
		{[]string{"-V"}, "unshare from nsbox " + Release() + "\n"},
		{[]string{"--vers"}, "unshare from nsbox " + Release() + "\n"},
		{[]string{"-fV"}, "unshare from nsbox " + Release() + "\n"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			e := newEnv(tc.args...)
			rest, done, err := Parse(e, unshareLikeFlags(e), "USAGE TEXT\n")
			if err != nil || !done || rest != nil {
				t.Fatalf("Parse(%q) = %q, %v, %v; want nil, true, nil", tc.args, rest, done, err)
			}
			if got := e.Stdout.(*bytes.Buffer).String(); got != tc.out {
				t.Errorf("stdout = %q, want %q", got, tc.out)
			}
			if got := e.Stderr.(*bytes.Buffer).String(); got != "" {
				t.Errorf("stderr = %q, want empty", got)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	ran := false
	a := &Applet{Name: "topts", Run: func(e *Env) error {
		fs := NewFlags(e)
		fs.BoolP("all", "a", false, "")
		fs.String("file", "", "")
		fs.StringP("tree", "T", "", "")
		fs.Lookup("tree").NoOptDefVal = "x"
		_, done, err := Parse(e, fs, "usage")
		if err != nil || done {
			return err
		}
		ran = true
		return nil
	}}
	got := Options(a)
	want := []Option{{"help", "h", 'n'}, {"version", "V", 'n'}, {"all", "a", 'n'}, {"file", "", 'r'}, {"tree", "T", 'o'}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Options = %v, want %v", got, want)
	}
	if ran {
		t.Errorf("Options ran the applet past Parse")
	}
}
