package nsenter_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

// This file runs both builds of the binary against namespaces the tests
// make, one option at a time; compare_test.go runs them side by side with
// util-linux nsenter 2.38 and through bad input.

// rootTarget is a container made by root: new mount, uts, ipc, net, pid and
// cgroup namespaces (no user or time namespace); its host name is "tgt",
// $dir/d holds a tmpfs with a file "inside" that only the container sees,
// and the program's working directory is $dir/d.
func rootTarget(t *testing.T, dir string) int {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	return startTarget(t, testutil.Opts{}, []string{"-fp", "-m", "-u", "-i", "-n", "-C", "--mount-proc"},
		fmt.Sprintf("hostname tgt && mount -t tmpfs none %[1]s/d && touch %[1]s/d/inside && cd %[1]s/d", dir))
}

// fullTarget is a container made by root in all eight namespaces types:
// user (root mapped to root), mount, uts, ipc, net, pid, cgroup and time
// (boottime offset 100000 s); its host name is "full", and /mnt is a tmpfs
// in its mount namespace, with a file .nsbox-mark that says "fullmark".
func fullTarget(t *testing.T) int {
	t.Helper()
	return startTarget(t, testutil.Opts{}, []string{"-r", "-fp", "-m", "-u", "-i", "-n", "-C", "-T", "--boottime", "100000", "--mount-proc"},
		"hostname full && mount -t tmpfs none /mnt && echo fullmark >/mnt/.nsbox-mark")
}

// TestEachNamespace: -t PID with each of -m -u -i -n -p -C -U -T alone
// enters that namespace of the target and no other. (With the target's
// mount namespace alone, its /proc shows the target's pid namespace, where
// the program has no /proc/self: there the mount it sees tells.)
func TestEachNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	target := fullTarget(t)
	self := os.Getpid()
	probe := readlinkNs(allTypes...) + "; cat /mnt/.nsbox-mark 2>/dev/null || echo host"
	if r := testutil.Run(t, "sh", "-c", probe); r.Code != 0 || !strings.HasSuffix(r.Stdout, "\nhost\n") {
		t.Fatalf("the host's /mnt is a mount point: %v", r)
	}
	for _, c := range []struct{ opt, typ string }{
		{"-m", "mnt"}, {"-u", "uts"}, {"-i", "ipc"}, {"-n", "net"}, {"-p", "pid"},
		{"-C", "cgroup"}, {"-U", "user"}, {"-T", "time"},
		{"--mount", "mnt"}, {"--uts", "uts"}, {"--ipc", "ipc"}, {"--net", "net"}, {"--pid", "pid"},
		{"--cgroup", "cgroup"}, {"--user", "user"}, {"--time", "time"},
	} {
		t.Run(c.opt, func(t *testing.T) {
			builds(t, func(t *testing.T, b build) {
				testutil.CheckNoLeaks(t)
				r := testutil.Run(t, b.nsenter("-t", strconv.Itoa(target), c.opt, "--preserve-credentials", "sh", "-c", probe)...)
				var want strings.Builder
				if c.typ == "mnt" {
					want.WriteString("fullmark\n")
				} else {
					for _, typ := range allTypes {
						pid := self
						if typ == c.typ {
							pid = target
						}
						want.WriteString(nsLink(t, pid, typ) + "\n")
					}
					want.WriteString("host\n")
				}
				if c.typ == "user" || c.typ == "time" {
					expectCgo(t, b, r, want.String(), "", 0)
				} else {
					expect(t, r, want.String(), "", 0)
				}
			})
		})
	}
}

// TestAll: -a enters every namespace of the target; namespaces the caller
// is already in are skipped (util-linux skips only the user namespace), so
// entering a target that shares the caller's mount namespace keeps the
// working directory.
func TestAll(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := t.TempDir()
	root := rootTarget(t, dir)
	full := fullTarget(t)
	netOnly := startTarget(t, testutil.Opts{}, []string{"-n", "-u"}, "hostname netonly")
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		// Every type the root target has of its own; user and time are
		// the caller's.
		r := testutil.Run(t, b.nsenter("-t", strconv.Itoa(root), "-a", "sh", "-c", readlinkNs(allTypes...)+"; hostname; pwd")...)
		expect(t, r, nsLinks(t, root, allTypes...)+"tgt\n/\n", "", 0)
		r = testutil.Run(t, b.nsenter("--target", strconv.Itoa(root), "--all", "-w", "sh", "-c", "pwd; ls")...)
		expect(t, r, dir+"/d\ninside\n", "", 0)

		// All eight, user included (entered last by root).
		r = testutil.Run(t, b.nsenter("-t", strconv.Itoa(full), "-a", "sh", "-c", readlinkNs(allTypes...)+"; hostname; id -u")...)
		expectCgo(t, b, r, nsLinks(t, full, allTypes...)+"full\n0\n", "", 0)

		// Only net and uts differ: nothing else is entered, so the
		// working directory stays (util-linux would enter the mount
		// namespace again and start in /), and there is no fork for a
		// pid namespace: the program has nsenter's PID.
		p := testutil.Start(t, testutil.Opts{Dir: dir, Timeout: testutil.DefaultTimeout}, b.nsenter("-t", strconv.Itoa(netOnly), "-a", "sh", "-c",
			readlinkNs(allTypes...)+"; hostname; pwd; echo $$")...)
		r = p.Wait()
		want := ""
		for _, typ := range allTypes {
			if typ == "net" || typ == "uts" {
				want += nsLink(t, netOnly, typ) + "\n"
			} else {
				want += nsLink(t, os.Getpid(), typ) + "\n"
			}
		}
		expect(t, r, want+"netonly\n"+dir+"\n"+strconv.Itoa(p.Pid())+"\n", "", 0)
	})
}

// TestAllRootless: root enters a container made by an unprivileged user;
// -a enters its user namespace last, so the host's namespaces the
// container shares are entered with root's privilege. With -U -m (the
// host's mount namespace, owned by the initial user namespace) the join
// only works in that order.
func TestAllRootless(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	u := testutil.Unprivileged(t)
	target := startTarget(t, testutil.Opts{User: u}, []string{"-r", "-n", "-u", "-i"}, "hostname rootless")
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		tp := strconv.Itoa(target)
		types := []string{"user", "net", "uts", "ipc", "mnt"}
		r := testutil.Run(t, b.nsenter("-t", tp, "-a", "sh", "-c", readlinkNs(types...)+"; hostname; id -u; id -g; id -G")...)
		expectCgo(t, b, r, nsLinks(t, target, types...)+"rootless\n0\n0\n0\n", "", 0)
		// Its mount namespace is RunAs's, owned by the initial user
		// namespace: entered before the user namespace, or not at all.
		r = testutil.Run(t, b.nsenter("-t", tp, "-U", "-m", "sh", "-c", readlinkNs("user", "mnt"))...)
		expectCgo(t, b, r, nsLinks(t, target, "user", "mnt"), "", 0)
		// Root is not mapped in the container: it runs as the overflow id.
		r = testutil.Run(t, b.nsenter("-t", tp, "-U", "-n", "--preserve-credentials", "sh", "-c", "id -u; id -g")...)
		expectCgo(t, b, r, "65534\n65534\n", "", 0)
		// follow: the target's ids as the container sees them (0), not
		// the host's (the unprivileged user's).
		r = testutil.Run(t, b.nsenter("-t", tp, "-U", "-S", "follow", "-G", "follow", "sh", "-c", "id -u; id -g")...)
		expectCgo(t, b, r, "0\n0\n", "", 0)
	})
}

// rootlessScript runs as the unprivileged user, in one mount namespace
// (RunAs makes a private one per command, and -a compares the caller's
// namespaces with the target's): it starts a rootless container in new
// user, mount, uts, ipc, net, pid, cgroup and time namespaces, runs
// "$NSENTER -t PID $@" against it, and prints what the program printed,
// then kills the container.
const rootlessScript = `
set -u
"$NSBOX" unshare --pid-file "$T/pid" -r -m -u -i -n -p -f -C -T --boottime 100000 --mount-proc \
	sh -c 'hostname rl; echo ready; exec sleep 600' >"$T/ready" 2>&1 &
bg=$!
i=0; while [ "$(cat "$T/ready" 2>/dev/null)" != ready ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
pid=$(cat "$T/pid")
$NSENTER -t "$pid" "$@"
rc=$?
{ kill -KILL "$pid" "$bg"; wait "$bg"; } 2>/dev/null
exit $rc
`

// TestRootlessOwner: the unprivileged owner of a rootless container enters
// it: -U -n -u, -a, with and without --preserve-credentials. util-linux
// 2.38 fails without --preserve-credentials (setgroups is denied there)
// and with -a (it re-enters the host's namespaces the container shares,
// which needs privilege); nsbox skips what cannot change anything.
func TestRootlessOwner(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	u := testutil.Unprivileged(t)
	nsbox := testutil.Binary(t)
	probe := readlinkNs(allTypes...) + `; hostname; id -u; id -g; cut -d. -f1 /proc/uptime; echo $$; grep CapEff /proc/self/status`
	run := func(t *testing.T, nsenter string, args ...string) testutil.Result {
		t.Helper()
		dir := sharedDir(t)
		os.Chown(dir, u.UID, u.GID)
		argv := append([]string{"sh", "-c", rootlessScript, "sh"}, args...)
		return testutil.RunWith(t, testutil.Opts{User: u, Env: []string{"NSBOX=" + nsbox, "NSENTER=" + nsenter, "T=" + dir}}, argv...)
	}
	// check: every namespace is the container's (cgroup and time too), root
	// with every capability in it, the program in its pid namespace.
	last, err := strconv.Atoi(strings.TrimSpace(testutil.ReadFile(t, "/proc/sys/kernel/cap_last_cap")))
	if err != nil {
		t.Fatal(err)
	}
	capAll := fmt.Sprintf("CapEff:\t%016x", uint64(1)<<(last+1)-1)
	check := func(t *testing.T, r testutil.Result) {
		t.Helper()
		lines := strings.Split(r.Stdout, "\n")
		if r.Code != 0 || r.Stderr != "" || len(lines) < 14 {
			t.Fatalf("%v", r)
		}
		self := nsLinks(t, os.Getpid(), allTypes...)
		for i, l := range strings.Split(strings.TrimSpace(self), "\n") {
			if lines[i] == l {
				t.Errorf("the program is still in the caller's %s", l)
			}
		}
		if lines[8] != "rl" || lines[9] != "0" || lines[10] != "0" {
			t.Errorf("want host name rl, uid 0, gid 0:\n%s", r.Stdout)
		}
		if up, _ := strconv.Atoi(lines[11]); up < 100000 {
			t.Errorf("not in the container's time namespace: uptime %s", lines[11])
		}
		if pid, _ := strconv.Atoi(lines[12]); pid < 2 || pid > 20 {
			t.Errorf("not in the container's pid namespace: pid %s", lines[12])
		}
		if lines[13] != capAll {
			t.Errorf("root in the container should have every capability (%s): %s", capAll, lines[13])
		}
	}
	builds(t, func(t *testing.T, b build) {
		for _, args := range [][]string{
			{"-a"},
			{"-a", "--preserve-credentials"},
			{"-U", "-m", "-u", "-i", "-n", "-p", "-C", "-T"},
			{"-U", "-m", "-u", "-i", "-n", "-p", "-C", "-T", "--preserve-credentials"},
		} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				testutil.CheckNoLeaks(t)
				r := run(t, b.bin+" nsenter", append(args, "sh", "-c", probe)...)
				if !b.cgo {
					expect(t, r, "", needsCgo, 1)
					return
				}
				check(t, r)
			})
		}
		t.Run("-U -n -u", func(t *testing.T) {
			testutil.CheckNoLeaks(t)
			r := run(t, b.bin+" nsenter", "-U", "-n", "-u", "sh", "-c", "hostname; id -u")
			expectCgo(t, b, r, "rl\n0\n", "", 0)
		})
		// The container's mount namespace without its pid namespace: its
		// /proc has no /proc/self for the program (a constructor stage
		// that read /proc/self/setgroups there failed).
		t.Run("-U -m", func(t *testing.T) {
			testutil.CheckNoLeaks(t)
			r := run(t, b.bin+" nsenter", "-U", "-m", "sh", "-c", "id -u; id -g")
			expectCgo(t, b, r, "0\n0\n", "", 0)
		})
		t.Run("-U -m -r -w follow", func(t *testing.T) {
			testutil.CheckNoLeaks(t)
			r := run(t, b.bin+" nsenter", "-U", "-m", "-r", "-w", "-S", "follow", "-G", "follow", "sh", "-c", `id -u; id -g; [ "$(pwd)" = "$HOME" ] && echo home`)
			expectCgo(t, b, r, "0\n0\nhome\n", "", 0)
		})
		t.Run("-n without -U", func(t *testing.T) {
			testutil.CheckNoLeaks(t)
			// The caller lacks privilege over the container's net
			// namespace outside its user namespace.
			r := run(t, b.bin+" nsenter", "-n", "true")
			expect(t, r, "", "nsenter: reassociate to namespace 'ns/net' failed: Operation not permitted\n", 1)
		})
	})
	t.Run("util-linux", func(t *testing.T) {
		ul := testutil.HaveUtilLinux(t, "nsenter")
		testutil.CheckNoLeaks(t)
		r := run(t, ul, "-U", "-m", "-u", "-i", "-n", "-p", "-C", "-T", "--preserve-credentials", "sh", "-c", probe)
		check(t, r)
		// 2.38 where nsbox differs on purpose (docs/nsenter.md).
		r = run(t, ul, "-U", "-n", "-u", "true")
		expect(t, r, "", "nsenter: setgroups failed: Operation not permitted\n", 1)
	})
}

// TestPinnedFiles: the =FILE forms take namespace files bind-mounted by
// util-linux unshare; --dir takes the whole directory.
func TestPinnedFiles(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := pinDir(t)
	names := pinAll(t, dir)
	self := os.Getpid()
	p := func(n string) string { return filepath.Join(dir, n) }
	builds(t, func(t *testing.T, b build) {
		for _, c := range []struct {
			args []string
			typ  string
		}{
			{[]string{"--net=" + p("net")}, "net"},
			{[]string{"-n" + p("net")}, "net"},
			{[]string{"--uts=" + p("uts")}, "uts"},
			{[]string{"-u" + p("uts")}, "uts"},
			{[]string{"--ipc=" + p("ipc")}, "ipc"},
			{[]string{"-i" + p("ipc")}, "ipc"},
			{[]string{"--cgroup=" + p("cgroup")}, "cgroup"},
			{[]string{"-C" + p("cgroup")}, "cgroup"},
			{[]string{"--mount=" + p("mnt")}, "mnt"},
			{[]string{"-m" + p("mnt")}, "mnt"},
			{[]string{"--user=" + p("user"), "--preserve-credentials"}, "user"},
			{[]string{"-U" + p("user"), "--preserve-credentials"}, "user"},
			{[]string{"--time=" + p("time")}, "time"},
			{[]string{"-T" + p("time")}, "time"},
		} {
			t.Run(strings.Join(c.args, " "), func(t *testing.T) {
				testutil.CheckNoLeaks(t)
				r := testutil.Run(t, b.nsenter(append(c.args, "sh", "-c", readlinkNs(allTypes...))...)...)
				want := ""
				for _, typ := range allTypes {
					if typ == c.typ {
						want += fileNs(t, typ, p(typ)) + "\n"
					} else {
						want += nsLink(t, self, typ) + "\n"
					}
				}
				if c.typ == "user" || c.typ == "time" {
					expectCgo(t, b, r, want, "", 0)
				} else {
					expect(t, r, want, "", 0)
				}
			})
		}
		t.Run("all files", func(t *testing.T) {
			testutil.CheckNoLeaks(t)
			var args []string
			for _, n := range names {
				opt := n
				if n == "mnt" {
					opt = "mount"
				}
				args = append(args, "--"+opt+"="+p(n))
			}
			r := testutil.Run(t, b.nsenter(append(args, "sh", "-c", "hostname; id -u; cut -d. -f1 /proc/uptime")...)...)
			if !b.cgo {
				expect(t, r, "", needsCgo, 1)
				return
			}
			f := strings.Fields(r.Stdout)
			if r.Code != 0 || len(f) != 3 || f[0] != "pinned" || f[1] != "0" {
				t.Fatalf("%v", r)
			}
			if up, _ := strconv.Atoi(f[2]); up < 100000 {
				t.Errorf("uptime %d: not in the pinned time namespace", up)
			}
		})
	})
}

// TestDir: --dir enters every namespace pinned in a directory handle.
func TestDir(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := pinDir(t)
	pinAll(t, dir)
	// A live pid namespace pinned beside them (a pid namespace needs a
	// process: an init of its own).
	pidPin := filepath.Join(dir, "pid")
	if err := os.WriteFile(pidPin, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	startTarget(t, testutil.Opts{}, []string{"-f", "--pid=" + pidPin}, "")
	netOnly := pinDir(t)
	os.WriteFile(filepath.Join(netOnly, "net"), nil, 0o644)
	os.WriteFile(filepath.Join(netOnly, "uts"), nil, 0o644)
	os.WriteFile(filepath.Join(netOnly, "notes"), []byte("not a pin\n"), 0o644)
	if r := testutil.Run(t, testutil.HaveUtilLinux(t, "unshare"), "--net="+netOnly+"/net", "--uts="+netOnly+"/uts", "hostname", "h2"); r.Code != 0 {
		t.Fatalf("%v", r)
	}
	empty := sharedDir(t)
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		types := []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}
		var want string
		for _, typ := range types {
			want += fileNs(t, typ, filepath.Join(dir, typ)) + "\n"
		}
		r := testutil.Run(t, b.nsenter("--dir", dir, "sh", "-c", readlinkNs(types...)+"; hostname; id -u; echo $$")...)
		expectCgo(t, b, r, want+"pinned\n0\n2\n", "", 0)
		// An option names another file for one type.
		r = testutil.Run(t, b.nsenter("--dir", dir, "--net="+netOnly+"/net", "--preserve-credentials", "sh", "-c", readlinkNs("net", "uts"))...)
		expectCgo(t, b, r, fileNs(t, "net", netOnly+"/net")+"\n"+fileNs(t, "uts", dir+"/uts")+"\n", "", 0)
		// Only net and uts pinned (and a file that is not a pin): no user
		// namespace, so the pure-Go build enters them too.
		r = testutil.Run(t, b.nsenter("--dir="+netOnly, "sh", "-c", readlinkNs("net", "uts", "mnt")+"; hostname")...)
		expect(t, r, fileNs(t, "net", netOnly+"/net")+"\n"+fileNs(t, "uts", netOnly+"/uts")+"\n"+nsLink(t, os.Getpid(), "mnt")+"\nh2\n", "", 0)
		r = testutil.Run(t, b.nsenter("--dir", "/nonexistent", "true")...)
		expect(t, r, "", "nsenter: cannot open /nonexistent: No such file or directory\n", 1)
		r = testutil.Run(t, b.nsenter("--dir", "/etc/passwd", "true")...)
		expect(t, r, "", "nsenter: cannot open /etc/passwd: Not a directory\n", 1)
		r = testutil.Run(t, b.nsenter("--dir", empty, "true")...)
		expect(t, r, "", "nsenter: no namespace specified\n", 1)
	})
}

// TestDirOwn: --dir on a handle that pins the caller's own namespaces
// does what -t PID -a does on a process that shares them: nothing to
// enter, the program runs, as the caller (setns on one's own user
// namespace would fail: EINVAL). The pure-Go build, which cannot enter a
// user namespace, has none to enter either.
func TestDirOwn(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	own := pinDir(t)
	types := []string{"cgroup", "ipc", "net", "pid", "time", "user", "uts"}
	for _, typ := range types {
		f := filepath.Join(own, typ)
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("/proc/self/ns/"+typ, f, "", unix.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
	}
	self := strconv.Itoa(os.Getpid())
	script := readlinkNs(allTypes...) + "; id -u"
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		all := testutil.Run(t, b.nsenter("-t", self, "-a", "sh", "-c", script)...)
		testutil.Must(t, all, 0)
		r := testutil.Run(t, b.nsenter("--dir", own, "sh", "-c", script)...)
		expect(t, r, all.Stdout, "", 0)
	})
}

// TestNetSocket: -N enters the network namespace of a socket the target
// holds, which here is not the target's own.
func TestNetSocket(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := testutil.Start(t, testutil.Opts{Env: []string{helperEnv + "=socket"}}, self)
	fd := strings.TrimSpace(p.WaitOutput("\n", 10*time.Second))
	target := strconv.Itoa(p.Pid())
	if nsLink(t, p.Pid(), "net") == nsLink(t, os.Getpid(), "net") {
		t.Fatalf("the socket holder is in the host's network namespace")
	}
	hostNet := nsLink(t, os.Getpid(), "net") + "\n"
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		r := testutil.Run(t, b.nsenter("-t", target, "-N", fd, "readlink", "/proc/self/ns/net")...)
		expect(t, r, hostNet, "", 0)
		r = testutil.Run(t, b.nsenter("--target="+target, "--net-socket="+fd, "-n", "-u", "readlink", "/proc/self/ns/net")...)
		expect(t, r, hostNet, "", 0)
		r = testutil.Run(t, b.nsenter("-t", target, "-n", "readlink", "/proc/self/ns/net")...)
		expect(t, r, nsLink(t, p.Pid(), "net")+"\n", "", 0)
		r = testutil.Run(t, b.nsenter("-t", target, "-N", "0", "true")...)
		expect(t, r, "", "nsenter: ioctl(SIOCGSKNS) failed: Inappropriate ioctl for device\n", 1)
		r = testutil.Run(t, b.nsenter("-t", target, "-N", "999", "true")...)
		expect(t, r, "", "nsenter: pidfd_getfd(999) failed: Bad file descriptor\n", 1)
		r = testutil.Run(t, b.nsenter("-N", fd, "true")...)
		expect(t, r, "", "nsenter: --net-socket requires --target\n", 1)
		r = testutil.Run(t, b.nsenter("-t", target, "-N", "x", "true")...)
		expect(t, r, "", "nsenter: failed to parse file descriptor: 'x'\n", 1)
	})
}

// TestUserParent: --user-parent enters the user namespace that owns the
// other namespaces entered, or the parent of the one entered: the case of
// a target whose own user namespace is nested in the one that owns its
// other namespaces (bwrap --dev), and which no process holds.
func TestUserParent(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	ul := testutil.HaveUtilLinux(t, "unshare")
	// The outer user namespace owns the net and uts namespaces; the
	// program then moves to a nested user namespace.
	target := startTarget(t, testutil.Opts{}, []string{"-r", "-n", "-u"}, "hostname outer && exec "+ul+" -U sh -c 'echo ready; exec sleep 600'")
	// startTarget's "ready" came from the inner shell only after the
	// exec; make sure the user namespace moved.
	var inner string
	for i := 0; i < 200; i++ {
		if inner = nsLink(t, target, "user"); inner != nsLink(t, os.Getpid(), "user") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", target), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	parentFd, err := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
	unix.Close(fd)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	unix.Fstat(parentFd, &st)
	unix.Close(parentFd)
	outer := fmt.Sprintf("user:[%d]\n", st.Ino)
	tp := strconv.Itoa(target)
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		for _, args := range [][]string{
			{"--user-parent", "-n", "-u"},
			{"--user-parent", "-U"},
			{"--user-parent"},
		} {
			r := testutil.Run(t, b.nsenter(append(append([]string{"-t", tp}, args...), "sh", "-c", "readlink /proc/self/ns/user; id -u")...)...)
			expectCgo(t, b, r, outer+"0\n", "", 0)
		}
		r := testutil.Run(t, b.nsenter("-t", tp, "--user-parent", "-n", "-u", "hostname")...)
		expectCgo(t, b, r, "outer\n", "", 0)
		// Without --user-parent the nested namespace maps nobody.
		r = testutil.Run(t, b.nsenter("-t", tp, "-U", "-n", "-u", "true")...)
		expectCgo(t, b, r, "", "nsenter: setgid failed: Invalid argument\n", 1)
		r = testutil.Run(t, b.nsenter("--user-parent", "true")...)
		expect(t, r, "", "nsenter: no namespace specified for --user-parent\n", 1)
	})
}

// TestCredentials: -S and -G with numbers and "follow", --preserve-credentials
// and --keep-caps.
func TestCredentials(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	u := testutil.Unprivileged(t)
	uid, gid := strconv.Itoa(u.UID), strconv.Itoa(u.GID)
	// A process of the unprivileged user in the host's namespaces but uts.
	userProc := startTarget(t, testutil.Opts{User: u}, []string{"-r", "-u"}, "")
	// A user namespace made by root with 65536 ids mapped (0 -> 100000).
	mapped := startTarget(t, testutil.Opts{}, []string{"-U", "-u"}, "")
	for _, m := range []string{"uid_map", "gid_map"} {
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/%s", mapped, m), []byte("0 100000 65536\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	up, mp := strconv.Itoa(userProc), strconv.Itoa(mapped)
	pidTarget := strconv.Itoa(fullTarget(t))
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		ids := []string{"sh", "-c", "id -u; id -g; id -G"}
		r := testutil.Run(t, b.nsenter(append([]string{"-t", up, "-u", "-S", "5", "-G", "6"}, ids...)...)...)
		expect(t, r, "5\n6\n6\n", "", 0)
		// -S alone keeps the gid and groups; -G alone drops the groups.
		r = testutil.Run(t, b.nsenter(append([]string{"-t", up, "-u", "--setuid=7"}, ids...)...)...)
		expect(t, r, "7\n0\n0\n", "", 0)
		r = testutil.RunWith(t, testutil.Opts{}, "sh", "-c", `exec setpriv --groups 3,4 "$@"`, "sh", b.bin, "nsenter", "-t", up, "-u", "--setgid=8", "sh", "-c", "id -u; id -g; id -G")
		expect(t, r, "0\n8\n8\n", "", 0)
		r = testutil.Run(t, b.nsenter(append([]string{"-t", up, "-u", "-S", "follow", "-G", "follow"}, ids...)...)...)
		expect(t, r, uid+"\n"+gid+"\n"+gid+"\n", "", 0)
		// Into a user namespace: root there by default; the target's ids
		// as that namespace sees them with follow.
		r = testutil.Run(t, b.nsenter(append([]string{"-t", up, "-U", "-S", "follow", "-G", "follow"}, ids...)...)...)
		expectCgo(t, b, r, "0\n0\n0\n", "", 0)
		r = testutil.Run(t, b.nsenter(append([]string{"-t", mp, "-U"}, ids...)...)...)
		expectCgo(t, b, r, "0\n0\n0\n", "", 0)
		r = testutil.Run(t, b.nsenter(append([]string{"-t", mp, "-U", "-S", "1000", "-G", "1001"}, ids...)...)...)
		expectCgo(t, b, r, "1000\n1001\n1001\n", "", 0)
		// --preserve-credentials: root's uid 0 is not mapped there.
		r = testutil.Run(t, b.nsenter(append([]string{"-t", mp, "-U", "--preserve-credentials"}, ids...)...)...)
		expectCgo(t, b, r, "65534\n65534\n65534\n", "", 0)
		// --keep-caps: a non-root uid keeps the namespace's capabilities.
		caps := []string{"grep", "-E", "^Cap(Eff|Amb)", "/proc/self/status"}
		r = testutil.Run(t, b.nsenter(append([]string{"-t", mp, "-U", "-S", "1000", "--keep-caps"}, caps...)...)...)
		expectCgo(t, b, r, "CapEff:\t000001ffffffffff\nCapAmb:\t000001ffffffffff\n", "", 0)
		r = testutil.Run(t, b.nsenter(append([]string{"-t", mp, "-U", "-S", "1000"}, caps...)...)...)
		expectCgo(t, b, r, "CapEff:\t0000000000000000\nCapAmb:\t0000000000000000\n", "", 0)
		// --keep-caps without a user namespace changes nothing.
		r = testutil.Run(t, b.nsenter(append([]string{"-t", up, "-u", "-S", "1000", "--keep-caps"}, caps...)...)...)
		expect(t, r, "CapEff:\t0000000000000000\nCapAmb:\t0000000000000000\n", "", 0)
		// Into a pid namespace (the program is forked): the same ids.
		r = testutil.Run(t, b.nsenter(append([]string{"-t", pidTarget, "-p", "-S", "5", "-G", "6"}, ids...)...)...)
		expect(t, r, "5\n6\n6\n", "", 0)
		r = testutil.Run(t, b.nsenter(append([]string{"-t", pidTarget, "-p", "-U"}, ids...)...)...)
		expectCgo(t, b, r, "0\n0\n0\n", "", 0)
		r = testutil.Run(t, b.nsenter("-r/", "-S", "follow", "true")...)
		expect(t, r, "", "nsenter: --setuid follow requires --target\n", 1)
		r = testutil.Run(t, b.nsenter("-r/", "-G", "follow", "true")...)
		expect(t, r, "", "nsenter: --setgid follow requires --target\n", 1)
	})
}

// TestRootWd: -r and -w with and without a directory, and -W.
func TestRootWd(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := t.TempDir()
	target := rootTarget(t, dir)
	tp := strconv.Itoa(target)
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		for _, c := range []struct {
			args     []string
			out, err string
			code     int
		}{
			{[]string{"-m"}, "/\n", "", 0},
			{[]string{"-m", "-w"}, dir + "/d\n", "", 0},
			{[]string{"-m", "--wd"}, dir + "/d\n", "", 0},
			{[]string{"-m", "-r"}, "/\n", "", 0},
			{[]string{"-m", "-r", "-w"}, dir + "/d\n", "", 0},
			{[]string{"-m", "-w/proc"}, "/proc\n", "", 0},
			{[]string{"-m", "--wd=/proc"}, "/proc\n", "", 0},
			{[]string{"-m", "-W", "/proc"}, "/proc\n", "", 0},
			{[]string{"-m", "-W", dir + "/d"}, dir + "/d\n", "", 0},
			{[]string{"-m", "-r", "-W", dir + "/d"}, dir + "/d\n", "", 0},
			{[]string{"-m", "--wdns=/proc"}, "/proc\n", "", 0},
			{[]string{"-m", "-W", "/nonexistent"}, "", "nsenter: cannot open current working directory: No such file or directory\n", 1},
			{[]string{"-m", "-W", "/etc/passwd"}, "", "nsenter: change directory by working directory file descriptor failed: Not a directory\n", 1},
			{[]string{"-m", "-r/nonexistent"}, "", "nsenter: cannot open /nonexistent: No such file or directory\n", 1},
			{[]string{"-m", "-w/nonexistent"}, "", "nsenter: cannot open /nonexistent: No such file or directory\n", 1},
			{[]string{"-m", "-w", "-W", "/"}, "", "nsenter: mutually exclusive arguments: --wdns --wd\n", 1},
		} {
			r := testutil.Run(t, b.nsenter(append(append([]string{"-t", tp}, c.args...), "pwd")...)...)
			if r.Stdout != c.out || r.Stderr != c.err || r.Code != c.code {
				t.Errorf("nsenter -t PID %s pwd: want %q %q exit %d, got %v", strings.Join(c.args, " "), c.out, c.err, c.code, r)
			}
		}
		// -w into the target's mount namespace sees its tmpfs.
		r := testutil.Run(t, b.nsenter("-t", tp, "-m", "-w", "ls")...)
		expect(t, r, "inside\n", "", 0)
		// -r with a root of its own: /usr is /, the program is looked up
		// there.
		r = testutil.Run(t, b.nsenter("-t", tp, "-u", "-r/usr", "-w/usr/lib", "sh", "-c", "pwd; ls -d /bin")...)
		expect(t, r, "/lib\n/bin\n", "", 0)
		// Without a namespace to enter, -r and -w are refused (2.41+).
		for _, args := range [][]string{{"-r"}, {"-w"}, {"-r/usr", "-w/usr/lib"}} {
			r = testutil.Run(t, b.nsenter(append(append([]string{"-t", tp}, args...), "pwd")...)...)
			expect(t, r, "", "nsenter: no namespace specified\n", 1)
		}
	})
}

// TestEnv: -e takes the target's environment.
func TestEnv(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	target := startTarget(t, testutil.Opts{Env: []string{"NSBOX_TARGET_VAR=from-target"}}, []string{"-u"}, "")
	environ := strings.Split(strings.TrimRight(testutil.ReadFile(t, fmt.Sprintf("/proc/%d/environ", target)), "\x00"), "\x00")
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		r := testutil.RunWith(t, testutil.Opts{Env: []string{"NSBOX_CALLER_VAR=caller"}}, b.nsenter("-t", strconv.Itoa(target), "-u", "-e", "/usr/bin/env", "-0")...)
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("%v", r)
		}
		got := strings.Split(strings.TrimRight(r.Stdout, "\x00"), "\x00")
		if strings.Join(got, "\n") != strings.Join(environ, "\n") {
			t.Errorf("want the target's environment\n%s\ngot\n%s", strings.Join(environ, "\n"), strings.Join(got, "\n"))
		}
		// With a pid namespace (forked) and PATH from the target.
		r = testutil.RunWith(t, testutil.Opts{Env: []string{"NSBOX_CALLER_VAR=caller"}}, b.nsenter("-t", strconv.Itoa(target), "-u", "--env", "sh", "-c", `echo "$NSBOX_TARGET_VAR-$NSBOX_CALLER_VAR"`)...)
		expect(t, r, "from-target-\n", "", 0)
	})
}

// TestNoFork: without -F the program is forked into the pid namespace; with
// -F it stays in the caller's and only its children enter.
func TestNoFork(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := t.TempDir()
	target := rootTarget(t, dir)
	tp := strconv.Itoa(target)
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		// The host's /proc: readlink's own pid namespace (a child of
		// the program's) in the first case, the program's in the second.
		probe := "echo $$; readlink /proc/self/ns/pid /proc/self/ns/pid_for_children"
		r := testutil.Run(t, b.nsenter("-t", tp, "-p", "sh", "-c", probe)...)
		f := strings.Fields(r.Stdout)
		if r.Code != 0 || len(f) != 3 {
			t.Fatalf("%v", r)
		}
		if pid, _ := strconv.Atoi(f[0]); pid < 2 || pid > 100 {
			t.Errorf("pid %d: not the target pid namespace's", pid)
		}
		if want := nsLink(t, target, "pid"); f[1] != want || f[2] != want {
			t.Errorf("want %s twice, got %v", want, f[1:])
		}
		for _, noFork := range []string{"-F", "--no-fork"} {
			p := testutil.Start(t, testutil.Opts{}, b.nsenter("-t", tp, "-p", noFork, "sh", "-c",
				"echo $$; readlink /proc/$$/ns/pid /proc/$$/ns/pid_for_children")...)
			r = p.Wait()
			f = strings.Fields(r.Stdout)
			if r.Code != 0 || len(f) != 3 {
				t.Fatalf("%v", r)
			}
			if f[0] != strconv.Itoa(p.Pid()) {
				t.Errorf("%s: the program's pid %s should be nsenter's own %d", noFork, f[0], p.Pid())
			}
			if f[1] != nsLink(t, os.Getpid(), "pid") || f[2] != nsLink(t, target, "pid") {
				t.Errorf("%s: want the caller's pid namespace, the target's for children: %v", noFork, f[1:])
			}
		}
	})
}

// TestJoinCgroup: -c moves the program into the target's cgroup v2.
func TestJoinCgroup(t *testing.T) {
	testutil.RequireRoot(t)
	mnt := cgroup2(t)
	if mnt == "" {
		t.Skip("no cgroup v2 hierarchy mounted")
	}
	testutil.CheckNoLeaks(t)
	cg := filepath.Join(mnt, fmt.Sprintf("nsbox-nsenter-test-%d", os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	t.Cleanup(func() {
		for i := 0; i < 100 && os.Remove(cg) != nil; i++ {
			time.Sleep(20 * time.Millisecond)
		}
	})
	p := testutil.Start(t, testutil.Opts{}, "sleep", "600")
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(p.Pid())), 0o644); err != nil {
		t.Fatal(err)
	}
	rel := "0::/" + filepath.Base(cg) + "\n"
	tp := strconv.Itoa(p.Pid())
	full := fullTarget(t)
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(full)), 0o644); err != nil {
		t.Fatal(err)
	}
	fullT := strconv.Itoa(full)
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		probe := []string{"sh", "-c", "grep ^0:: /proc/self/cgroup"}
		for _, args := range [][]string{{"-c", "-u"}, {"--join-cgroup", "-u"}, {"-c", "-p", "-u"}} {
			r := testutil.Run(t, b.nsenter(append(append([]string{"-t", tp}, args...), probe...)...)...)
			expect(t, r, rel, "", 0)
		}
		// With the constructor (a user namespace): the cgroup is joined
		// before the re-execution.
		r := testutil.Run(t, b.nsenter(append([]string{"-t", fullT, "-U", "-c"}, probe...)...)...)
		expectCgo(t, b, r, rel, "", 0)
		r = testutil.Run(t, b.nsenter("-c", "-u", "true")...)
		expect(t, r, "", "nsenter: neither filename nor target pid supplied for ns/uts\n", 1)
		// A host without cgroup v2: the message says so (a private mount
		// namespace without the v2 mount).
		r = testutil.Run(t, testutil.HaveUtilLinux(t, "unshare"), "-m", "sh", "-c", `umount -l "$0" && exec "$@"`, mnt,
			b.bin, "nsenter", "-t", tp, "-c", "-u", "true")
		expect(t, r, "", "nsenter: --join-cgroup: the host has no cgroup v2 hierarchy\n", 1)
	})
}

// TestFollowContext: -Z is accepted (there is no SELinux here) and changes
// nothing.
func TestFollowContext(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	target := startTarget(t, testutil.Opts{}, []string{"-u"}, "hostname zz")
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		for _, z := range []string{"-Z", "--follow-context"} {
			r := testutil.Run(t, b.nsenter("-t", strconv.Itoa(target), "-u", z, "hostname")...)
			expect(t, r, "zz\n", "", 0)
		}
	})
}

// TestStatus: the program's exit status and signal pass through, with and
// without the fork for a pid namespace and through the constructor.
func TestStatus(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := t.TempDir()
	root := strconv.Itoa(rootTarget(t, dir))
	full := strconv.Itoa(fullTarget(t))
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		for _, c := range []struct {
			args      []string
			code, sig int
		}{
			{[]string{"-t", root, "-p"}, 9, 0},
			{[]string{"-t", root, "-u"}, 9, 0},
			{[]string{"-t", root, "-p", "-F"}, 9, 0},
			{[]string{"-t", full, "-U", "-p"}, 9, 0},
			{[]string{"-t", full, "-U"}, 9, 0},
		} {
			for _, prog := range []struct {
				script    string
				code, sig int
			}{
				{"exit 9", 9, 0},
				{"exit 0", 0, 0},
				{"kill -TERM $$", -1, 15},
				{"kill -KILL $$", -1, 9},
				{"kill -INT $$", -1, 2},
			} {
				r := testutil.Run(t, b.nsenter(append(c.args, "sh", "-c", prog.script)...)...)
				if !b.cgo && c.args[2] == "-U" {
					expect(t, r, "", needsCgo, 1)
					continue
				}
				if r.Code != prog.code || r.Signal != prog.sig || r.Stderr != "" {
					t.Errorf("nsenter %s sh -c %q: want exit %d signal %d, got %v", strings.Join(c.args, " "), prog.script, prog.code, prog.sig, r)
				}
			}
		}
		// A shell run through sh -c as the A16 example has it.
		r := testutil.Run(t, "sh", "-c", `"$0" nsenter -t $$ -p sh -c 'exit 9'`, b.bin)
		expect(t, r, "", "", 9)
	})
}

// TestStopMirror: when the forked program stops, nsenter stops too, and
// continuing nsenter continues the program (util-linux continue_as_child),
// in the Go path and in the constructor's.
func TestStopMirror(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := t.TempDir()
	root := strconv.Itoa(rootTarget(t, dir))
	full := strconv.Itoa(fullTarget(t))
	builds(t, func(t *testing.T, b build) {
		for _, args := range [][]string{{"-t", root, "-p"}, {"-t", full, "-U", "-p"}} {
			if !b.cgo && args[2] == "-U" {
				continue
			}
			t.Run(strings.Join(args[2:], ""), func(t *testing.T) {
				testutil.CheckNoLeaks(t)
				p := testutil.Start(t, testutil.Opts{Timeout: 30 * time.Second},
					b.nsenter(append(args, "sh", "-c", "echo $$ >"+dir+"/child; kill -STOP $$; echo resumed; exit 4")...)...)
				waitState(t, p.Pid(), "T")
				if procState(p.Pid()) != "T" {
					t.Fatalf("nsenter did not stop with its child")
				}
				if err := unix.Kill(p.Pid(), unix.SIGCONT); err != nil {
					t.Fatal(err)
				}
				r := p.Wait()
				expect(t, r, "resumed\n", "", 4)
			})
		}
	})
}

// TestMountJoinLeavesHost: a mount-namespace join moves the program only
// (MECHANICS §6): the program sees the target's mounts with the target's
// root and working directory, the host's mount table and tmpfs stay as
// they were, by pidfd (all the target's own) and by file.
func TestMountJoinLeavesHost(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t) // the host's mount table is unchanged at the end
	dir := t.TempDir()
	target := rootTarget(t, dir)
	tp := strconv.Itoa(target)
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		for _, args := range [][]string{
			{"-t", tp, "-m", "-w", "-r"},                                  // pidfd
			{"-t", tp, "-a", "-w", "-r"},                                  // pidfd, every namespace
			{"--mount=/proc/" + tp + "/ns/mnt", "-w/proc/" + tp + "/cwd"}, // file
		} {
			// The target's /proc (its pid namespace): the target is 1.
			r := testutil.Run(t, b.nsenter(append(args, "sh", "-c", `pwd; ls; [ "$(stat -c %d:%i /)" = "$(stat -L -c %d:%i /proc/1/root)" ] && echo same-root`)...)...)
			expect(t, r, dir+"/d\ninside\nsame-root\n", "", 0)
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, "d")); len(entries) != 0 {
			t.Errorf("the target's tmpfs reached the host: %v", entries)
		}
	})
}

// TestCloneFS: the unit-level check of the CLONE_FS step, in a
// multi-threaded Go process: after nsexec's join into a mount namespace
// (by file and by pidfd), the joining thread sees the target's mounts and
// another thread does not. The control shows the check can tell: a pidfd
// join without unshare(CLONE_FS) moves the other thread too.
func TestCloneFS(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := t.TempDir()
	target := strconv.Itoa(rootTarget(t, dir))
	marker := filepath.Join(dir, "d", "inside")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := testutil.RunWith(t, testutil.Opts{Env: []string{helperEnv + "=join"}}, self, target, marker)
	expect(t, r, "file joiner=true other=false\npidfd joiner=true other=false\n", "", 0)
	r = testutil.RunWith(t, testutil.Opts{Env: []string{helperEnv + "=hazard"}}, self, target, marker)
	expect(t, r, "hazard joiner=true other=true\n", "", 0)
}

// TestOperandFIFO: a FIFO named as a namespace file (--net=FIFO, also for
// --user-parent) or as -W's directory is never waited on: refused at once,
// by the fast path and by the Go applet (util-linux waits for a writer
// forever). A regular file is still opened and refused by setns, in
// util-linux's words.
func TestOperandFIFO(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	builds(t, func(t *testing.T, b build) {
		for _, env := range [][]string{nil, {"_NSBOX_NOFAST=1"}} {
			o := testutil.Opts{Env: env, Timeout: 10 * time.Second}
			run := func(args ...string) testutil.Result { return testutil.RunWith(t, o, b.nsenter(args...)...) }
			notNs := "nsenter: " + fifo + ": not a namespace file\n"
			expect(t, run("--net="+fifo, "true"), "", notNs, 1)
			expect(t, run("-t", self, "-u", "--net="+fifo, "true"), "", notNs, 1)
			expect(t, run("--net="+fifo, "--user-parent", "true"), "", notNs, 1)
			expect(t, run("-t", self, "-u", "-W", fifo, "true"), "",
				"nsenter: change directory by working directory file descriptor failed: Not a directory\n", 1)
			expect(t, run("--net=/etc/passwd", "true"), "", "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n", 1)
		}
	})
}
