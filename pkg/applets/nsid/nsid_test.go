package nsid

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/pkg/applet"
)

// runNsid runs the applet in-process, as the dispatcher does: the exit
// status and both streams, no subprocess.
func runNsid(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = applet.Run(applet.Lookup("nsid"), args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func TestNsid(t *testing.T) {
	uts, err := os.Readlink("/proc/self/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	net, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	try := "Try 'nsid --help' for more information.\n"
	ino := strings.TrimSuffix(strings.TrimPrefix(uts, "uts:["), "]")
	tests := []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		// What readlink says of /proc/PID/ns links, for each file in turn.
		{[]string{"/proc/self/ns/uts", "/proc/self/ns/net"}, 0, uts + "\n" + net + "\n", ""},
		{[]string{"-t", "uts", "/proc/self/ns/uts"}, 0, uts + "\n", ""},
		{[]string{"--type=net", "--", "/proc/self/ns/net"}, 0, net + "\n", ""},
		{[]string{"--ty", "net", "/proc/self/ns/net"}, 0, net + "\n", ""},
		// JSON: lsns -J's layout and keys, a document for every file or none.
		{[]string{"-J", "/proc/self/ns/uts"}, 0, "{\n   \"namespaces\": [\n      {\n" +
			"         \"file\": \"/proc/self/ns/uts\",\n         \"ns\": " + ino + ",\n         \"type\": \"uts\"\n" +
			"      }\n   ]\n}\n", ""},
		{[]string{"--json", "/proc/self/ns/uts", "/etc/passwd"}, 1, "", "nsid: /etc/passwd: not a namespace file\n"},
		// The failures: APPLET: what: why, and exit 1.
		{[]string{"-t", "uts", "/proc/self/ns/net"}, 1, "", "nsid: /proc/self/ns/net: a net namespace, not uts\n"},
		{[]string{"/proc/self/ns/uts", "/etc/passwd"}, 1, uts + "\n", "nsid: /etc/passwd: not a namespace file\n"},
		{[]string{"/nonexistent"}, 1, "", "nsid: cannot open /nonexistent: No such file or directory\n"},
		{[]string{"-t", "bogus", "/proc/self/ns/uts"}, 1, "", "nsid: unknown namespace type: bogus\n"},
		// Usage errors add the "Try" line.
		{nil, 1, "", "nsid: no file specified\n" + try},
		{[]string{"--bogus"}, 1, "", "nsid: unrecognized option '--bogus'\n" + try},
		{[]string{"-t"}, 1, "", "nsid: option requires an argument -- 't'\n" + try},
		{[]string{"--version"}, 0, "nsid from nsbox " + applet.Release() + "\n", ""},
	}
	for _, tc := range tests {
		code, stdout, stderr := runNsid(tc.args...)
		if code != tc.code || stdout != tc.stdout || stderr != tc.errs {
			t.Errorf("nsid %q: exit %d, stdout %q, stderr %q; want %d, %q, %q",
				tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.errs)
		}
	}
}

func TestHelp(t *testing.T) {
	code, stdout, _ := runNsid("--help")
	if code != 0 || stdout != usage {
		t.Errorf("--help: exit %d, %q", code, stdout)
	}
}
