package nsenter_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/pin"
)

// netnsProbe prints what a program that learns about the network from
// files sees: the links under /sys/class/net, /etc/hosts and
// /etc/resolv.conf, the /sys mount (mount point, options, type, source,
// super options), whether its mount namespace is the caller's ($HOSTMNT),
// and its network namespace.
const netnsProbe = `ls /sys/class/net
cat /etc/hosts /etc/resolv.conf
awk '$5 == "/sys" { for (i = 7; $i != "-"; i++) ; print $5, $6, $(i+1), $(i+2), $(i+3) }' /proc/self/mountinfo
[ "$(readlink /proc/self/ns/mnt)" = "$HOSTMNT" ] && echo the caller\'s mnt || echo a mnt of its own
readlink /proc/self/ns/net`

// netnsScript runs in a mount namespace of its own, so that the files it
// puts in /etc/netns/$N are in an overlay on /etc whose upper layer is
// $T: it runs the probe through "ip netns exec" and through nsenter
// --netns (as a name, as /run/netns/$N, and as a pin elsewhere), writing
// each one's stdout, stderr and status to $T/WHICH.{out,err,rc}.
const netnsScript = `set -e
mkdir "$T/upper" "$T/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/upper,workdir=$T/work" /etc
mkdir -p "/etc/netns/$N"
echo "10.9.8.7 nsbxhost" >"/etc/netns/$N/hosts"
echo "nameserver 10.9.8.53" >"/etc/netns/$N/resolv.conf"
echo absent >"/etc/netns/$N/nsbx-absent.conf"
touch "$T/pin"
mount --bind "/run/netns/$N" "$T/pin"
export HOSTMNT="$(readlink /proc/self/ns/mnt)"
set +e
run() { which=$1; shift; "$@" sh -c "$PROBE" >"$T/$which.out" 2>"$T/$which.err"; echo $? >"$T/$which.rc"; }
run ip ip netns exec "$N"
run name "$BIN" nsenter --netns "$N"
run path "$BIN" nsenter --netns="/run/netns/$N"
run pin "$BIN" nsenter --netns "$T/pin"
run net "$BIN" nsenter --net="/run/netns/$N"
`

// namedNetns starts a leak-checked test (as root) and makes a named
// network namespace with "ip netns add", deleted at the end; /run/netns is
// made first as ip netns add leaves it, so that it is no leak.
func namedNetns(t *testing.T) string {
	t.Helper()
	testutil.RequireRoot(t)
	if err := pin.PrepareNetnsDir(); err != nil {
		t.Fatal(err)
	}
	testutil.CheckNoLeaks(t, "/run/netns")
	name := fmt.Sprintf("nsbxtest%d", os.Getpid())
	testutil.Must(t, testutil.Run(t, "ip", "netns", "add", name), 0)
	t.Cleanup(func() { testutil.Must(t, testutil.Run(t, "ip", "netns", "del", name), 0) })
	return name
}

// TestNetns: nsenter --netns NAME against "ip netns exec NAME" on the same
// named network namespace: the same links in /sys/class/net, the same
// /etc files from /etc/netns/NAME (and the same complaint about one with
// nothing to cover), the same /sys mount, a mount namespace of its own.
// nsenter --net=FILE keeps the caller's /sys, which lists the host's links.
func TestNetns(t *testing.T) {
	name := namedNetns(t)
	testutil.Must(t, testutil.Run(t, "ip", "-n", name, "link", "add", "nsbxt0", "type", "veth", "peer", "name", "nsbxt1"), 0)
	netLink := nsLink(t, os.Getpid(), "net")
	nsNet := strings.TrimSpace(testutil.Run(t, "ip", "netns", "exec", name, "readlink", "/proc/self/ns/net").Stdout)
	hostHosts := testutil.ReadFile(t, "/etc/hosts") + testutil.ReadFile(t, "/etc/resolv.conf")
	if nsNet == "" || nsNet == netLink {
		t.Fatalf("ip netns exec %s: network namespace %q, the test's is %q", name, nsNet, netLink)
	}
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t, "/run/netns")
		dir := t.TempDir()
		r := testutil.RunWith(t, testutil.Opts{Env: []string{"T=" + dir, "N=" + name, "BIN=" + b.bin, "PROBE=" + netnsProbe}},
			"unshare", "-m", "--propagation", "private", "sh", "-c", netnsScript)
		testutil.Must(t, r, 0)
		got := func(which string) testutil.Outcome {
			rc, _ := strconv.Atoi(strings.TrimSpace(testutil.ReadFile(t, filepath.Join(dir, which+".rc"))))
			return testutil.Outcome{Out: testutil.ReadFile(t, filepath.Join(dir, which+".out")),
				Err: testutil.ReadFile(t, filepath.Join(dir, which+".err")), Code: rc}
		}
		ip := got("ip")
		etc := "10.9.8.7 nsbxhost\nnameserver 10.9.8.53\n"
		sys := "/sys rw,relatime sysfs " + name + " rw\n"
		if want := "lo\nnsbxt0\nnsbxt1\n" + etc + sys + "a mnt of its own\n" + nsNet + "\n"; ip.Out != want || ip.Code != 0 {
			t.Fatalf("ip netns exec: want %q, got %v", want, ip)
		}
		bind := "/etc/netns/" + name + "/nsbx-absent.conf -> /etc/nsbx-absent.conf failed: No such file or directory\n"
		if ip.Err != "Bind "+bind {
			t.Errorf("ip netns exec: stderr %q", ip.Err)
		}
		for _, which := range []string{"name", "path"} {
			want := ip
			want.Err = "nsenter: bind " + bind
			if which == "path" {
				want.Out = strings.Replace(want.Out, " sysfs "+name+" ", " sysfs /run/netns/"+name+" ", 1)
			}
			if o := got(which); o != want {
				t.Errorf("nsenter --netns (%s)\n=== want (ip netns exec):\n%v\n=== got:\n%v", which, want, o)
			}
		}
		// A pin elsewhere: the namespace's /sys, the caller's /etc.
		want := "lo\nnsbxt0\nnsbxt1\n" + hostHosts + "/sys rw,relatime sysfs " + dir + "/pin rw\n" + "a mnt of its own\n" + nsNet + "\n"
		if o := got("pin"); o.Out != want || o.Err != "" || o.Code != 0 {
			t.Errorf("nsenter --netns PIN: want %q, got %v", want, o)
		}
		// --net=FILE enters the same namespace and keeps the caller's
		// mounts: /sys lists the links of the namespace that mounted it.
		if o := got("net"); !strings.Contains(o.Out, "\nthe caller's mnt\n"+nsNet+"\n") || strings.HasPrefix(o.Out, "lo\nnsbxt0\nnsbxt1\n") || o.Code != 0 {
			t.Errorf("nsenter --net=FILE: %v", o)
		}
	})
}

// TestNetnsCombined: --netns with the namespaces of a target, the user's
// refusal, and the combination nsenter refuses before it changes anything.
func TestNetnsCombined(t *testing.T) {
	name := namedNetns(t)
	target := rootTarget(t, sharedDir(t))
	u := testutil.Unprivileged(t)
	rootless := startTarget(t, testutil.Opts{User: u}, []string{"-r", "-n", "-u"}, "")
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t, "/run/netns")
		// The target's UTS and mount namespaces; the named network
		// namespace, whose /sys is mounted in a copy of the target's
		// mount namespace.
		r := testutil.Run(t, b.nsenter("-t", strconv.Itoa(target), "-u", "-m", "-p", "--netns", name, "sh", "-c",
			"hostname; ls /sys/class/net; ls /proc | grep -c '^[0-9]'")...)
		if f := strings.Fields(r.Stdout); len(f) != 3 || f[0] != "tgt" || f[1] != "lo" || r.Stderr != "" || r.Code != 0 {
			t.Errorf("nsenter -t PID -u -m -p --netns NAME: %v", r)
		} else if n, _ := strconv.Atoi(f[2]); n > 10 {
			t.Errorf("the program does not see the target's /proc: %d processes", n)
		}
		// Root's namespace is not the user's to enter.
		r = testutil.RunAs(t, u, b.nsenter("--netns", name, "true")...)
		expect(t, r, "", "nsenter: reassociate to namespace 'ns/net' failed: Operation not permitted\n", 1)
		// A user namespace goes through the C stage, which cannot make
		// the mounts: refused before anything is entered.
		r = testutil.RunAs(t, u, b.nsenter("-t", strconv.Itoa(rootless), "-U", "--netns", "/proc/"+strconv.Itoa(rootless)+"/ns/net", "true")...)
		expect(t, r, "", "nsenter: --netns cannot be combined with entering a user or time namespace\n", 1)
		r = testutil.Run(t, b.nsenter("--netns", "nsbxtest-none", "true")...)
		expect(t, r, "", "nsenter: cannot open /run/netns/nsbxtest-none: No such file or directory\n", 1)
	})
}
