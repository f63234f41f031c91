package pin

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/pkg/applet"
)

// run runs the applet in this process, as the dispatcher would.
func runPin(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = applet.Run(applet.Lookup("pin"), args, nil, &out, &errb)
	return out.String(), errb.String(), code
}

// TestCommandLine: input refused before anything touches the system, in
// this process and without root.
func TestCommandLine(t *testing.T) {
	try := "\nTry 'pin --help' for more information.\n"
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"--bogus"}, "pin: unrecognized option '--bogus'" + try},
		{[]string{"-Z"}, "pin: invalid option -- 'Z'" + try},
		{[]string{"--mount=x", "--t", "1"}, "pin: option '--t' is ambiguous; possibilities: '--target' '--time'" + try},
		{[]string{"-t"}, "pin: option requires an argument -- 't'" + try},
		{[]string{"--netns"}, "pin: option '--netns' requires an argument" + try},
		{[]string{"--all=x"}, "pin: option '--all' doesn't allow an argument" + try},
		{[]string{"-t", "abc"}, "pin: failed to parse PID argument 'abc': Invalid argument\n"},
		{[]string{"-t", "0"}, "pin: failed to parse PID argument '0': Numerical result out of range\n"},
		{[]string{"--netns", "a/b", "-t", "x"}, "pin: invalid netns name 'a/b'\n"},
		{[]string{"--netns", ""}, "pin: invalid netns name ''\n"},
		{[]string{"--net="}, "pin: --net: empty file name\n"},
		{[]string{"-t", "5"}, "pin: nothing to pin: give namespace options, a <dir> or --netns <name>\n"},
		{[]string{"-t", "5", "-u"}, "pin: no file or directory for the uts namespace: use --uts=<file> or give a <dir>\n"},
		{[]string{"-t", "5", "-a", "--net=/x"}, "pin: --all needs a <dir>\n"},
		{[]string{"-t", "5", ""}, "pin: empty directory name\n"},
		{[]string{"-t", "5", "a", "b"}, "pin: too many arguments: only one <dir> is allowed" + try},
		{[]string{"-u", "d"}, "pin: no target process specified (-t <pid>)\n"},
		{[]string{"d"}, "pin: no target process specified (-t <pid>)\n"},
		{[]string{"-d"}, "pin: --delete needs a <path> or --netns <name>\n"},
		{[]string{"-d", "-a", "x"}, "pin: --delete takes no --target, --all, --for-children, --hold, --json or namespace options\n"},
		{[]string{"-d", "--for-children", "x"}, "pin: --delete takes no --target, --all, --for-children, --hold, --json or namespace options\n"},
		{[]string{"-d", "-n", "x"}, "pin: --delete takes no --target, --all, --for-children, --hold, --json or namespace options\n"},
		{[]string{"-d", "--netns", "a/b"}, "pin: invalid netns name 'a/b'\n"},
	}
	for _, tc := range tests {
		out, errs, code := runPin(tc.args...)
		if code != 1 || errs != tc.err || out != "" {
			t.Errorf("pin %q: exit %d, stdout %q, stderr %q; want 1, %q", tc.args, code, out, errs, tc.err)
		}
	}
}

func TestHelpVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--he"}, {"-t", "5", "--help"}} {
		out, errs, code := runPin(args...)
		if code != 0 || out != usage || errs != "" {
			t.Errorf("pin %q: exit %d, stderr %q, stdout %.40q", args, code, errs, out)
		}
	}
	out, _, code := runPin("-V")
	if code != 0 || !strings.HasPrefix(out, "pin from nsbox ") {
		t.Errorf("pin -V: %d %q", code, out)
	}
	// --help acts when read: an error before it wins, one after it does not.
	if _, errs, code := runPin("-t", "abc", "--help"); code != 1 || !strings.Contains(errs, "'abc'") {
		t.Errorf("pin -t abc --help: %d %q", code, errs)
	}
	if out, _, code := runPin("--help", "-t", "abc"); code != 0 || out != usage {
		t.Errorf("pin --help -t abc: %d", code)
	}
}

// TestOptionalShort: -uFILE attaches FILE as nsenter's "u::" does: in
// "-un -i", n is -u's file, so only -i lacks one (and the command stops
// there, before touching anything).
func TestOptionalShort(t *testing.T) {
	_, errs, code := runPin("-t", "5", "-un", "-i")
	if code != 1 || errs != "pin: no file or directory for the ipc namespace: use --ipc=<file> or give a <dir>\n" {
		t.Errorf("-un -i: %d %q", code, errs)
	}
}
