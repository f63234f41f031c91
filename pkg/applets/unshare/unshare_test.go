package unshare

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/idmap"
)

func TestSignalNumber(t *testing.T) {
	tests := []struct {
		s   string
		sig int
		ok  bool
	}{
		{"KILL", 9, true},
		{"SIGKILL", 9, true},
		{"kill", 9, true},
		{"sigkill", 9, true},
		{"SigTerm", 15, true},
		{"TERM", 15, true},
		{"HUP", 1, true},
		{"USR1", 10, true},
		{"CHLD", 17, true},
		{"SYS", 31, true},
		{"9", 9, true},
		{"15", 15, true},
		{"64", 64, true},
		{"0", 0, false},
		{"65", 0, false},
		{"-1", 0, false},
		{"FOO", 0, false},
		{"SIGFOO", 0, false},
		{"SIG", 0, false},
		{"", 0, false},
		{"KILL ", 0, false},
		{"SIGSIGKILL", 0, false},
	}
	for _, tc := range tests {
		sig, ok := signalNumber(tc.s)
		if ok != tc.ok || (ok && sig != tc.sig) {
			t.Errorf("signalNumber(%q) = %d, %v; want %d, %v", tc.s, sig, ok, tc.sig, tc.ok)
		}
	}
}

// util-linux's signame_to_signum also knows the aliases IOT, CLD and POLL
// and the real-time names RTMIN+n / RTMAX-n: 2.38.1 accepts
// `--kill-child=IOT`, `=CLD`, `=POLL`, `=RTMIN+1`, `=RTMAX-1`.
func TestSignalNumberUtilLinuxNames(t *testing.T) {
	tests := []struct {
		s   string
		sig int
	}{
		{"IOT", 6},
		{"SIGIOT", 6},
		{"CLD", 17},
		{"POLL", 29},
		{"RTMIN+1", 35},
		{"SIGRTMIN+0", 34},
		{"RTMAX-1", 63},
		{"rtmax-0", 64},
	}
	var missing []string
	for _, tc := range tests {
		sig, ok := signalNumber(tc.s)
		if !ok {
			missing = append(missing, tc.s)
			continue
		}
		if sig != tc.sig {
			t.Errorf("signalNumber(%q) = %d, want %d", tc.s, sig, tc.sig)
		}
	}
	if len(missing) > 0 {
		t.Errorf("signalNumber rejects %q, which util-linux 2.38.1 accepts for --kill-child (`unshare --kill-child=IOT true` rc 0; nsbox: \"unshare: unknown signal: IOT\" rc 1)", missing)
	}
}

func TestValidPropagation(t *testing.T) {
	tests := []struct {
		s  string
		ok bool
	}{
		{"", true},
		{"private", true},
		{"slave", true},
		{"shared", true},
		{"unchanged", true},
		{"bogus", false},
		{"Private", false},
		{"rprivate", false},
		{"private ", false},
		{"unbindable", false},
	}
	for _, tc := range tests {
		if got := validPropagation(tc.s); got != tc.ok {
			t.Errorf("validPropagation(%q) = %v, want %v", tc.s, got, tc.ok)
		}
	}
}

func TestWhitelistEnv(t *testing.T) {
	env := []string{"HOME=/root", "PATH=/bin", "TERM=xterm", "EMPTY=", "X=a=b", "PATHX=no", "NOEQ"}
	tests := []struct {
		list string
		want []string
	}{
		{"PATH", []string{"PATH=/bin"}},
		{"PATH,HOME", []string{"HOME=/root", "PATH=/bin"}}, // the environment's order
		{"TERM,NOSUCH", []string{"TERM=xterm"}},
		{"EMPTY", []string{"EMPTY="}},
		{"X", []string{"X=a=b"}},
		{"PAT", nil},
		{"NOSUCH", nil},
		{"", nil},
		{"PATH,,HOME", []string{"HOME=/root", "PATH=/bin"}},
		{"NOEQ", []string{"NOEQ"}},
		{"path", nil}, // case matters
	}
	for _, tc := range tests {
		got := whitelistEnv(env, tc.list)
		if len(got) != 0 || len(tc.want) != 0 {
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("whitelistEnv(%q) = %q, want %q", tc.list, got, tc.want)
			}
		}
	}
}

func withPasswd(t *testing.T, content string) {
	t.Helper()
	old := idmap.PasswdFile
	t.Cleanup(func() { idmap.PasswdFile = old })
	idmap.PasswdFile = filepath.Join(t.TempDir(), "passwd")
	if content != "" {
		if err := os.WriteFile(idmap.PasswdFile, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestShell(t *testing.T) {
	uid := os.Getuid()
	line := func(shell string) string {
		return "someone:x:" + itoa(uid) + ":0::/home/someone:" + shell + "\n"
	}
	tests := []struct {
		name   string
		shell  string // $SHELL
		passwd string
		want   string
	}{
		{"$SHELL", "/bin/fish", line("/bin/zsh"), "/bin/fish"},
		{"$SHELL without passwd", "/usr/bin/ksh", "", "/usr/bin/ksh"},
		{"passwd shell", "", line("/bin/zsh"), "/bin/zsh"},
		{"passwd shell of this uid, not another", "", "other:x:" + itoa(uid+1) + ":0::/:/bin/other\n" + line("/bin/mine"), "/bin/mine"},
		{"empty passwd shell", "", line(""), "/bin/sh"},
		{"passwd line without shell field", "", "someone:x:" + itoa(uid) + ":0\n", "/bin/sh"},
		{"not in passwd", "", "other:x:" + itoa(uid+1) + ":0::/:/bin/other\n", "/bin/sh"},
		{"no passwd file", "", "", "/bin/sh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SHELL", tc.shell)
			withPasswd(t, tc.passwd)
			if got := idmap.Shell(); got != tc.want {
				t.Errorf("idmap.Shell() = %q, want %q", got, tc.want)
			}
		})
	}
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, syscall.ENOSPC }

func runUnshare(t *testing.T, stdout *bytes.Buffer, args ...string) (code int, stderr string) {
	t.Helper()
	a := applet.Lookup("unshare")
	if a == nil {
		t.Fatal("unshare applet not registered")
	}
	var errb bytes.Buffer
	code = applet.Run(a, args, nil, stdout, &errb)
	return code, errb.String()
}

func TestHelpVersion(t *testing.T) {
	t.Setenv("_NSBOX_STAGE", "") // never an internal stage here
	tests := []struct {
		args []string
		out  string
	}{
		{[]string{"--help"}, usage},
		{[]string{"-h"}, usage},
		{[]string{"--version"}, "unshare from nsbox " + applet.Release() + "\n"},
		{[]string{"-V"}, "unshare from nsbox " + applet.Release() + "\n"},
		{[]string{"-ufV"}, "unshare from nsbox " + applet.Release() + "\n"},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		code, errOut := runUnshare(t, &out, tc.args...)
		if code != 0 || errOut != "" || out.String() != tc.out {
			t.Errorf("unshare %q = %d, stderr %q, stdout %q; want 0, \"\", %q", tc.args, code, errOut, out.String(), tc.out)
		}
	}
	if !strings.HasPrefix(usage, "\nUsage:\n unshare [options] [<program> [<argument>...]]\n") {
		t.Errorf("usage does not start like util-linux's: %q", usage[:60])
	}
	for _, args := range [][]string{{"--help"}, {"--version"}} {
		var errb bytes.Buffer
		code := applet.Run(applet.Lookup("unshare"), args, nil, failWriter{}, &errb)
		if want := "unshare: write error: No space left on device\n"; code != 1 || errb.String() != want {
			t.Errorf("unshare %q > /dev/full = %d, %q; want 1, %q", args, code, errb.String(), want)
		}
	}
}

// TestBadInput drives run() with inputs it must refuse before any
// namespace, mount or exec: the error is printed, status 1, nothing on
// stdout. Every case also carries --pid-file into a missing directory, the
// last check before the launch, so a case that wrongly passes validation
// fails with that message instead of unsharing anything.
func TestBadInput(t *testing.T) {
	t.Setenv("_NSBOX_STAGE", "")
	withPasswd(t, "root:x:0:0:root:/root:/bin/sh\n")
	oldG := idmap.GroupFile
	idmap.GroupFile = filepath.Join(t.TempDir(), "group")
	t.Cleanup(func() { idmap.GroupFile = oldG })
	sentinelDir := filepath.Join(t.TempDir(), "missing")
	sentinel := filepath.Join(sentinelDir, "pid")
	guard := "--pid-file=" + sentinel
	try := "\nTry 'unshare --help' for more information.\n"
	tests := []struct {
		name string
		args []string
		err  string
	}{
		{"sentinel alone", nil, "unshare: cannot open " + sentinel + ": No such file or directory\n"},
		{"--propagation bogus", []string{"--propagation", "bogus"}, "unshare: unsupported propagation mode: bogus\n"},
		{"-m --propagation bogus", []string{"-m", "--propagation", "bogus"}, "unshare: unsupported propagation mode: bogus\n"},
		{"--mount-proc --propagation=Private", []string{"--mount-proc", "--propagation=Private"}, "unshare: unsupported propagation mode: Private\n"},
		{"--setgroups bogus", []string{"--setgroups", "bogus"}, "unshare: unsupported --setgroups argument 'bogus'\n"},
		{"-r --setgroups allow", []string{"-r", "--setgroups", "allow"}, "unshare: options --setgroups=allow and --map-group are mutually exclusive\n"},
		{"--map-group 0 --setgroups=allow", []string{"--map-group", "0", "--setgroups=allow"}, "unshare: options --setgroups=allow and --map-group are mutually exclusive\n"},
		{"-c --setgroups allow", []string{"-c", "--setgroups", "allow"}, "unshare: options --setgroups=allow and --map-group are mutually exclusive\n"},
		{"--boottime 100", []string{"--boottime", "100", "true"}, "unshare: options --monotonic and --boottime require unsharing of a time namespace (-T)\n"},
		{"--monotonic 1", []string{"--monotonic=1"}, "unshare: options --monotonic and --boottime require unsharing of a time namespace (-T)\n"},
		{"--monotonic x -T", []string{"--monotonic", "x", "-T"}, "unshare: failed to parse monotonic offset: 'x'\n"},
		{"--boottime 1.5 -T", []string{"-T", "--boottime", "1.5"}, "unshare: failed to parse boottime offset: '1.5'\n"},
		{"--monotonic '' -T", []string{"-T", "--monotonic="}, "unshare: failed to parse monotonic offset: ''\n"},
		{"-S abc", []string{"-S", "abc"}, "unshare: failed to parse uid: 'abc'\n"},
		{"-Sabc", []string{"-Sabc", "id"}, "unshare: failed to parse uid: 'abc'\n"},
		{"--setuid=-1", []string{"--setuid=-1"}, "unshare: failed to parse uid: '-1'\n"},
		{"-S 4294967295", []string{"-S", "4294967295"}, "unshare: failed to parse uid: '4294967295'\n"},
		{"-S root (numeric only)", []string{"-S", "root"}, "unshare: failed to parse uid: 'root'\n"},
		{"-G abc", []string{"-G", "abc"}, "unshare: failed to parse gid: 'abc'\n"},
		{"-G '+1'", []string{"-G", "+1"}, "unshare: failed to parse gid: '+1'\n"},
		{"--map-user nosuchuser_zz", []string{"--map-user", "nosuchuser_zz"}, "unshare: failed to parse uid: 'nosuchuser_zz'\n"},
		{"--map-user=", []string{"--map-user="}, "unshare: failed to parse uid: ''\n"},
		{"--map-group nosuchgroup_zz", []string{"--map-group", "nosuchgroup_zz"}, "unshare: failed to parse gid: 'nosuchgroup_zz'\n"},
		{"--kill-child=FOO", []string{"--kill-child=FOO"}, "unshare: unknown signal: FOO\n"},
		{"--kill-child=0", []string{"--kill-child=0"}, "unshare: unknown signal: 0\n"},
		{"--kill-child=", []string{"--kill-child="}, "unshare: unknown signal: \n"},
		{"--map-users bogus", []string{"--map-users", "bogus"}, "unshare: could not parse ID: 'bogus'\n"},
		{"--map-groups=0:1:0", []string{"--map-groups=0:1:0"}, "unshare: could not parse ID: '0:1:0'\n"},
		{"--owner 1", []string{"--owner", "1"}, "unshare: failed to parse owner\n"},
		{"--owner 1:-1", []string{"--owner", "1:-1"}, "unshare: failed to parse owner\n"},
		{"--owner 1:2:3", []string{"--owner", "1:2:3"}, "unshare: failed to parse owner\n"},
		{"--ready-fd abc", []string{"--ready-fd", "abc"}, "unshare: invalid file descriptor: 'abc'\n"},
		{"--ready-fd -1", []string{"--ready-fd=-1"}, "unshare: invalid file descriptor: '-1'\n"},
		{"--ready-fd not open", []string{"--ready-fd", "987654"}, "unshare: --ready-fd 987654: Bad file descriptor\n"},
		{"--json-status-fd not open", []string{"--json-status-fd", "987654"}, "unshare: --json-status-fd 987654: Bad file descriptor\n"},
		{"--bogus", []string{"--bogus"}, "unshare: unrecognized option '--bogus'" + try},
		{"-Z", []string{"-Z"}, "unshare: invalid option -- 'Z'" + try},
		{"-uZ", []string{"-uZ"}, "unshare: invalid option -- 'Z'" + try},
		{"--setuid", []string{"--setuid"}, "unshare: option '--setuid' requires an argument" + try},
		{"-S", []string{"-S"}, "unshare: option requires an argument -- 'S'" + try},
		{"--fork=1", []string{"--fork=1"}, "unshare: option '--fork' doesn't allow an argument" + try},
		{"--fo", []string{"--fo"}, "unshare: option '--fo' is ambiguous; possibilities: '--fork' '--forward-signals'" + try},
		{"-nFILE", []string{"-nFILE"}, "unshare: invalid option -- 'F'" + try},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{guard}, tc.args...)
			var out bytes.Buffer
			code, errOut := runUnshare(t, &out, args...)
			if code != 1 || errOut != tc.err || out.Len() != 0 {
				t.Errorf("unshare %q = %d, stderr %q, stdout %q; want 1, %q, \"\"", args, code, errOut, out.String(), tc.err)
			}
		})
	}
	if _, err := os.Stat(sentinelDir); err == nil {
		t.Error("the sentinel directory was created")
	}
}

// The ambiguity message lists every --map- option (glibc's order is the
// option table's; only the set is checked).
func TestBadInputAmbiguousMap(t *testing.T) {
	t.Setenv("_NSBOX_STAGE", "")
	var out bytes.Buffer
	code, errOut := runUnshare(t, &out, "--pid-file=/nonexistent-nsbox-dir/pid", "--map", "0")
	const prefix = "unshare: option '--map' is ambiguous; possibilities: '--map-"
	if code != 1 || out.Len() != 0 || !strings.HasPrefix(errOut, prefix) ||
		!strings.HasSuffix(errOut, "'\nTry 'unshare --help' for more information.\n") {
		t.Fatalf("unshare --map = %d, %q, %q", code, out.String(), errOut)
	}
	first, _, _ := strings.Cut(errOut, "\n")
	_, list, _ := strings.Cut(first, "possibilities:")
	for _, c := range []string{"map-user", "map-users", "map-group", "map-groups", "map-root-user", "map-current-user", "map-auto", "map-subids"} {
		if !strings.Contains(list+" ", " '--"+c+"' ") {
			t.Errorf("%q does not list --%s", first, c)
		}
	}
	if n := strings.Count(list, "'--"); n != 8 {
		t.Errorf("%q lists %d options, want 8", first, n)
	}
}
