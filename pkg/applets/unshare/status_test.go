package unshare_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/ns"
)

// statusScript runs unshare with --json-status-fd 3 on a file; the
// program prints its PID, the namespaces its children get (readlink is
// one), what its descriptors are, and exits 7.
const statusScript = `
"$BIN" unshare "$@" --json-status-fd 3 sh -c '
echo "self=$$"
for t in user cgroup ipc uts net pid mnt time; do echo "$t=$(readlink /proc/self/ns/$t)"; done
for fd in /proc/self/fd/*; do echo "fd=$(readlink $fd)"; done
exit 7' 3>"$T/status"
echo "exit=$?"
`

// TestJSONStatusFd: the first object names the program's PID and the
// inode of each namespace unshare made, in the order of the types' table,
// byte for byte as documented, whoever writes it (this process, the C
// constructor's self stage, or the parent of a fork); the second, only
// after a fork, the program's exit status. The program never gets the
// descriptor.
func TestJSONStatusFd(t *testing.T) {
	testutil.RequireRoot(t)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		for _, mode := range [][]string{{"-u", "-i"}, {"-n", "-T"}, {"-U", "-u"}, {"-f", "-p", "-u"}, {"-fU", "-n", "-C", "-T"}} {
			t.Run(strings.Join(mode, ""), func(t *testing.T) {
				dir := t.TempDir()
				testutil.CheckNoLeaks(t)
				r := testutil.RunWith(t, testutil.Opts{Env: []string{"T=" + dir, "BIN=" + bin}},
					append([]string{"sh", "-c", statusScript, "sh"}, mode...)...)
				testutil.Must(t, r, 0)
				seen := map[string]string{}
				for _, l := range strings.Split(r.Stdout, "\n") {
					if k, v, ok := strings.Cut(l, "="); ok {
						seen[k] = v
						if k == "fd" && v == dir+"/status" {
							t.Errorf("the program inherited the status descriptor")
						}
					}
				}
				if seen["exit"] != "7" {
					t.Fatalf("unshare did not exit with the program's status 7: %s", r)
				}
				b, err := os.ReadFile(dir + "/status")
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.SplitAfter(string(b), "\n")
				first := lines[0]
				var pid int
				if _, err := fmt.Sscanf(first, `{"child-pid":%d`, &pid); err != nil || pid <= 0 {
					t.Fatalf("first object %q", first)
				}
				// The PID as the caller sees it: the program's own, but
				// for a forked child in a new pid namespace (PID 1 there).
				forkPid := strings.Contains(mode[0], "f") && strings.Contains(strings.Join(mode, ""), "p")
				if !forkPid && strconv.Itoa(pid) != seen["self"] {
					t.Errorf("child-pid %d, the program's PID is %s", pid, seen["self"])
				}
				want := fmt.Sprintf(`{"child-pid":%d`, pid)
				flags := map[byte]bool{}
				for _, m := range mode {
					for _, c := range []byte(strings.TrimPrefix(m, "-")) {
						flags[c] = true
					}
				}
				for _, typ := range ns.JoinOrder {
					if flags[typ.Opt()] {
						ino := strings.TrimSuffix(strings.TrimPrefix(seen[typ.String()], typ.String()+":["), "]")
						want += fmt.Sprintf(`,"%s-namespace":%s`, typ, ino)
					}
				}
				want += "}\n"
				if first != want {
					t.Errorf("first object\n got %q\nwant %q", first, want)
				}
				// The exit object: after a fork (-f, or -U without the
				// constructor, which forks), then the end of the file.
				fork := flags['f'] || (!cgo && flags['U'])
				rest := strings.Join(lines[1:], "")
				if fork && rest != "{\"exit-code\":7}\n" || !fork && rest != "" {
					t.Errorf("after the first object: %q (fork: %v)", rest, fork)
				}
			})
		}
		// A new pid namespace has no name before its first process:
		// without a fork it is left out.
		t.Run("-p-u", func(t *testing.T) {
			testutil.CheckNoLeaks(t)
			r := testutil.Run(t, "sh", "-c", `"$0" unshare -p -u --json-status-fd 3 true 3>&1`, bin)
			testutil.Must(t, r, 0)
			var pid, uts int
			if n, _ := fmt.Sscanf(r.Stdout, "{\"child-pid\":%d,\"uts-namespace\":%d}\n", &pid, &uts); n != 2 || strings.Count(r.Stdout, "\n") != 1 {
				t.Errorf("-p without --fork: %q", r.Stdout)
			}
		})
	})
}
