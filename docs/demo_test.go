package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nsbox/nsbox/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// section returns the transcript lines after the line that starts with
// start, up to the next line that starts with one of the prompts, "==" or
// a note ("   (").
func section(out, start string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, start) {
			continue
		}
		var b strings.Builder
		for _, m := range lines[i+1:] {
			if strings.HasPrefix(m, "box# ") || strings.HasPrefix(m, "host# ") ||
				strings.HasPrefix(m, "host$ ") || strings.HasPrefix(m, "==") ||
				strings.HasPrefix(m, "   (") {
				break
			}
			b.WriteString(m + "\n")
		}
		return b.String()
	}
	return ""
}

// runDemo runs docs/demo.sh as root or as u and checks what every run
// must show.
func runDemo(t *testing.T, u *testutil.User) string {
	t.Helper()
	return runDemoWith(t, u, testutil.Opts{})
}

// runDemoWith is runDemo with more options (a PATH, a directory laid over
// /etc).
func runDemoWith(t *testing.T, u *testutil.User, o testutil.Opts) string {
	t.Helper()
	bin := testutil.Binary(t)
	root := testutil.Rootfs(t)
	script, err := filepath.Abs("demo.sh")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if u != nil {
		tmp = u.Home
	}
	o.User, o.Timeout, o.Env = u, 2*time.Minute, append(o.Env, "TMPDIR="+tmp)
	r := testutil.RunWith(t, o, "bash", script, bin, root)
	out := r.Stdout
	if r.Code != 0 || !strings.Contains(out, "\ndemo: OK\n") {
		t.Fatalf("demo failed: %v", r)
	}
	t.Logf("transcript:\n%s", out)
	if s := section(out, "box# hostname"); s != "box\n" {
		t.Errorf("hostname inside: %q, want box", s)
	}
	if s := section(out, "box# id"); !strings.HasPrefix(s, "uid=0(root) gid=0(root)") {
		t.Errorf("id inside: %q, want uid 0 and gid 0", s)
	}
	// ps: PID 1 is nsbox's init, and the only processes are the
	// container's: the init, the shell running the script, ps.
	ps := strings.Split(strings.TrimSpace(section(out, "box# ps")), "\n")
	if len(ps) != 4 || !regexp.MustCompile(`^\s*1\s+0\s+\S+\s+nsbox$`).MatchString(ps[1]) ||
		!strings.HasSuffix(ps[2], " sh") || !strings.HasSuffix(ps[3], " ps") {
		t.Errorf("ps inside: want a header, then init as PID 1, sh, ps:\n%s", strings.Join(ps, "\n"))
	}
	if s := section(out, "box# ping"); !strings.Contains(s, "1 packets received") {
		t.Errorf("ping inside did not get its answer:\n%s", s)
	}
	// ls /: exactly the root filesystem's top-level entries.
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range ents {
		want = append(want, e.Name())
	}
	sort.Strings(want)
	if got := strings.Fields(section(out, "box# ls /")); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ls / inside: %q, want the root filesystem's %q", got, want)
	}
	ns := section(out, "box# ls -l /proc/self/ns")
	for _, typ := range []string{"user", "uts", "ipc", "mnt", "net", "cgroup", "pid"} {
		if !regexp.MustCompile(`(?m) ` + typ + ` -> ` + typ + `:\[\d+\]$`).MatchString(ns) {
			t.Errorf("ls -l /proc/self/ns: no %s link:\n%s", typ, ns)
		}
	}
	// nsenter from the host reaches the same container.
	if s := section(out, "host"+prompt(u)+" nsbox nsenter --dir"); !strings.HasPrefix(s, "box\n") {
		t.Errorf("nsenter --dir: %q, want the container's host name first", s)
	}
	if s := section(out, "host"+prompt(u)+" nsbox lsns -p"); strings.Count(s, "\n") != 9 {
		t.Errorf("lsns -p: want a header and 8 namespaces (7 of the container, time):\n%s", s)
	}
	if !strings.Contains(out, "\nnothing is left: ") {
		t.Errorf("the demo did not report its check")
	}
	return out
}

func prompt(u *testutil.User) string {
	if u == nil {
		return "#"
	}
	return "$"
}

func TestDemoRoot(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	out := runDemo(t, nil)
	for _, want := range []string{
		"\nhost# nsbox pin -t ",
		"\nhost# nsbox mkbridge -b nsboxdemo0 --bridge-addr 10.213.0.1/24 ",
		"inet 10.213.0.", // eth0's address, inside
		"box# ping -c 1 -W 5 10.213.0.1\n",
		"\nhost# nsbox mkbridge -d ",
		"\nhost# nsbox pin -d ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if s := section(out, "host# ip -br link show master nsboxdemo0"); !strings.HasPrefix(s, "nsb") {
		t.Errorf("the container's host end is not on the bridge: %q", s)
	}
}

func TestDemoUnprivileged(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	u := testutil.Unprivileged(t)
	out := runDemo(t, u)
	for _, want := range []string{
		"\nhost$ nsbox pin --hold -t ",
		"skipped the bridge: mkbridge needs root",
		"box# ip link set lo up\n",
		"box# ping -c 1 -W 5 127.0.0.1\n",
		"the /etc/subuid block", // the test user has a block, newuidmap writes it
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if strings.Contains(out, "mkbridge -b") {
		t.Errorf("the rootless run ran mkbridge")
	}
	if !regexp.MustCompile(`(?m)^\s+1\s+\d+\s+65536$`).MatchString(section(out, "host$ cat /proc/")) {
		t.Errorf("uid_map: want the subordinate block on 1:\n%s", section(out, "host$ cat /proc/"))
	}
}

// TestDemoUnprivilegedBridge: where the administrator has installed the
// privileged mkbridge (a set-user-ID copy on the user's PATH), made a
// bridge and written a rule for the user, the rootless demo's container
// gets eth0 on that bridge and pings it; its port is gone afterwards.
func TestDemoUnprivilegedBridge(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	u := testutil.Unprivileged(t)
	br := fmt.Sprintf("nsbtdemo%d", os.Getpid()%10000)
	for _, args := range [][]string{{"link", "add", br, "type", "bridge"}, {"addr", "add", "10.216.0.1/24", "dev", br}, {"link", "set", br, "up"}} {
		testutil.Must(t, testutil.Run(t, append([]string{"ip"}, args...)...), 0)
	}
	t.Cleanup(func() { testutil.Run(t, "ip", "link", "del", br) })
	dir := testutil.SetuidCopy(t, testutil.Binary(t), "mkbridge")
	etc := t.TempDir()
	if err := os.Chmod(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(etc, "nsbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "nsbox", "usernet"), []byte("# the demo\n"+u.Name+" "+br+" 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runDemoWith(t, u, testutil.Opts{Etc: etc, Env: []string{"PATH=" + dir + ":" + os.Getenv("PATH")}})
	for _, want := range []string{
		"network: eth0 on the administrator's bridge " + br + " (10.216.0.1/24) by the privileged mkbridge " + dir + "/mkbridge",
		"\nhost$ " + dir + "/mkbridge -b " + br + " ",
		"altname nsbox-user." + strconv.Itoa(u.UID) + "." + br + ".0",
		"box# ping -c 1 -W 5 10.216.0.1\n",
		"\nhost$ " + dir + "/mkbridge -d nsb",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if strings.Contains(out, "skipped the bridge") {
		t.Errorf("the demo skipped the bridge")
	}
}
