package mkbridge_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

// The unprivileged path: mkbridge run by the test user through a
// set-user-ID root copy in a directory of the test's own (as "make
// install-setuid" installs it), with a policy laid over /etc/nsbox/usernet
// in the user's private mount namespace (the host's /etc is never
// touched), on a bridge the test makes as an administrator would
// (10.215.0.1/24, up). The containers are the user's rootless ones
// (nsbox unshare --map-auto -r -n).

// ufix is one such set-up.
type ufix struct {
	bin, br string
	u       *testutil.User
	dir     string // the set-user-ID copy, linked as mkbridge
	etc     string // laid over /etc: nsbox/usernet
	uid     string
}

func userSetup(t *testing.T) *ufix {
	t.Helper()
	bin, br := setup(t)
	f := &ufix{bin: bin, br: br, u: testutil.Unprivileged(t)}
	f.uid = strconv.Itoa(f.u.UID)
	f.dir = testutil.SetuidCopy(t, bin, "mkbridge")
	f.etc = t.TempDir()
	if err := os.Chmod(f.etc, 0o755); err != nil {
		t.Fatal(err)
	}
	adminBridge(t, br, "10.215.0.1/24")
	f.policy(t, f.u.Name+" "+br+" 2\n", 0o644)
	return f
}

// adminBridge makes bridge br with address addr, up, as an administrator
// would (removed at cleanup by setup's).
func adminBridge(t *testing.T, br, addr string) netlink.Link {
	t.Helper()
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: br, TxQLen: -1}}); err != nil {
		t.Fatal(err)
	}
	l, err := netlink.LinkByName(br)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := netlink.ParseAddr(addr)
	if err := netlink.AddrAdd(l, a); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		t.Fatal(err)
	}
	return l
}

// policy writes /etc/nsbox/usernet as the user will see it.
func (f *ufix) policy(t *testing.T, content string, mode os.FileMode) {
	t.Helper()
	d := filepath.Join(f.etc, "nsbox")
	os.RemoveAll(d)
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(d, "usernet")
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// run runs the copy as mkbridge, as the user, with the policy.
func (f *ufix) run(t *testing.T, args ...string) testutil.Result {
	t.Helper()
	return testutil.RunWith(t, testutil.Opts{User: f.u, Etc: f.etc}, append([]string{filepath.Join(f.dir, "mkbridge")}, args...)...)
}

// sh runs a shell command line as the user, with the policy; "$M" is the
// copy linked as mkbridge.
func (f *ufix) sh(t *testing.T, o testutil.Opts, script string, args ...string) testutil.Result {
	t.Helper()
	o.User, o.Etc = f.u, f.etc
	o.Env = append(o.Env, "M="+filepath.Join(f.dir, "mkbridge"))
	return testutil.RunWith(t, o, append([]string{"sh", "-c", script, "sh"}, args...)...)
}

// container starts a rootless container of the user (its own user and
// network namespaces, its own uid as 0, its subordinate block from 1).
func (f *ufix) container(t *testing.T) *testutil.Proc {
	t.Helper()
	return testutil.Start(t, testutil.Opts{User: f.u}, f.bin, "unshare", "--map-auto", "-r", "-n", "sleep", "600").
		WaitExec(t, "sleep", 10*time.Second)
}

// hostEnds returns the host ends on the bridge, each with its altnames.
func (f *ufix) hostEnds(t *testing.T) map[string][]string {
	t.Helper()
	br, err := netlink.LinkByName(f.br)
	if err != nil {
		t.Fatal(err)
	}
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			out[l.Attrs().Name] = l.Attrs().AltNames
		}
	}
	return out
}

// ping pings addr from inside the user's container p, as the user.
func (f *ufix) ping(t *testing.T, p *testutil.Proc, addr string) {
	t.Helper()
	busybox := filepath.Join(f.u.Home, "busybox")
	if _, err := os.Stat(busybox); err != nil {
		b, err := os.ReadFile(filepath.Join(testutil.Rootfs(t), "bin", "busybox"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(busybox, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r := testutil.RunAs(t, f.u, f.bin, "nsenter", "-t", pidOf(p), "-U", "-n", busybox, "ping", "-c", "1", "-W", "5", addr)
	if r.Code != 0 || !strings.Contains(r.Stdout, "1 packets received") {
		t.Errorf("ping %s from the container: %s", addr, r)
	}
}

// TestUserPort: a rootless container gets a port on the bridge the policy
// allows, pings the bridge and another container of the user; the port is
// recorded as the user's; the third is refused (two allowed); -d by
// target and by host end removes them.
func TestUserPort(t *testing.T) {
	f := userSetup(t)
	c1, c2, c3 := f.container(t), f.container(t), f.container(t)
	r1 := f.run(t, "-b", f.br, pidOf(c1))
	host1, addrs1 := parseOut(t, r1)
	r2 := f.run(t, "-b", f.br, pidOf(c2))
	host2, addrs2 := parseOut(t, r2)
	if len(addrs1) != 1 || len(addrs2) != 1 || !strings.HasPrefix(addrs1[0].String(), "10.215.0.") || addrs1[0] == addrs2[0] {
		t.Fatalf("addresses %v %v", addrs1, addrs2)
	}
	ends := f.hostEnds(t)
	for i, h := range []string{host1, host2} {
		rec := fmt.Sprintf("nsbox-user.%s.%s.%d", f.uid, f.br, i)
		if !strings.Contains(fmt.Sprint(ends[h]), rec) {
			t.Errorf("host end %s: altnames %v, want %s", h, ends[h], rec)
		}
	}
	f.ping(t, c1, "10.215.0.1")
	f.ping(t, c1, addrs2[0].Addr().String())
	testutil.Fails(t, f.run(t, "-b", f.br, pidOf(c3)), fmt.Sprintf("mkbridge: /proc/%d/ns/net: refused: uid %s has 2 port(s) on %s already, and may have 2 (/etc/nsbox/usernet line 1: %s %s 2)\n",
		c3.Pid(), f.uid, f.br, f.u.Name, f.br))
	testutil.Must(t, f.run(t, "-d", pidOf(c1)), 0)
	testutil.Must(t, f.run(t, "-d", host2), 0)
	if ends := f.hostEnds(t); len(ends) != 0 {
		t.Errorf("ports left: %v", ends)
	}
	// A freed slot is given again, to the third container.
	_, _ = parseOut(t, f.run(t, "-b", f.br, pidOf(c3)))
	testutil.Must(t, f.run(t, "-d", pidOf(c3)), 0)
}

// TestUserQuotaParallel: ten requests at once for ten containers, three
// ports allowed: exactly three are made, the others refused by the quota.
func TestUserQuotaParallel(t *testing.T) {
	f := userSetup(t)
	f.policy(t, f.u.Name+" "+f.br+" 3\n", 0o644)
	var cs []*testutil.Proc
	for i := 0; i < 10; i++ {
		cs = append(cs, f.container(t))
	}
	res := make([]testutil.Result, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = f.run(t, "-b", f.br, pidOf(c))
		}()
	}
	wg.Wait()
	made := 0
	for i, r := range res {
		if r.Code == 0 {
			made++
			continue
		}
		testutil.Fails(t, r, fmt.Sprintf("mkbridge: /proc/%d/ns/net: refused: uid %s has 3 port(s) on %s already, and may have 3 (/etc/nsbox/usernet line 1: %s %s 3)\n",
			cs[i].Pid(), f.uid, f.br, f.u.Name, f.br))
	}
	if made != 3 || len(f.hostEnds(t)) != 3 {
		t.Errorf("%d set-ups succeeded, %d ports on the bridge; want 3", made, len(f.hostEnds(t)))
	}
	for i, r := range res {
		if r.Code == 0 {
			testutil.Must(t, f.run(t, "-d", pidOf(cs[i])), 0)
		}
	}
}

// TestUserRefusedOptions: what only root may ask for, each refused in
// one line saying why, nothing made.
func TestUserRefusedOptions(t *testing.T) {
	f := userSetup(t)
	c := f.container(t)
	pid := pidOf(c)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--nat"}, "--nat: not allowed to an unprivileged user: NAT and forwarding are the administrator's"},
		{[]string{"--bridge-addr", "10.215.1.1/24"}, "--bridge-addr: not allowed to an unprivileged user: a bridge's addresses are the administrator's"},
		{[]string{"--host-ifname", "mine0"}, "--host-ifname: not allowed to an unprivileged user: the host end's name is chosen by mkbridge"},
		{[]string{"--mtu", "1280"}, "--mtu: not allowed to an unprivileged user: the MTU is the bridge's"},
		{[]string{"--new"}, "--new: not allowed to an unprivileged user: the namespaces under /run/netns are root's"},
		{[]string{"-d", "--delete-bridge"}, "--delete-bridge: not allowed to an unprivileged user: a bridge is the administrator's"},
		{[]string{"--check"}, "--check: not allowed to an unprivileged user: the diagnosis is root's"},
		{[]string{"-a", "10.215.0.9"}, "--addr 10.215.0.9: not allowed to an unprivileged user: the address is allocated by mkbridge (--addr auto)"},
	} {
		target := pid
		if c.args[0] == "--new" {
			target = "nsbtnew" // --new takes a name
		}
		testutil.Fails(t, f.run(t, append(append([]string{"-b", f.br}, c.args...), target)...), "mkbridge: "+c.msg+"\n")
	}
	l, _ := netlink.LinkByName(f.br)
	testutil.Fails(t, f.run(t, "-b", f.br, "--mac", l.Attrs().HardwareAddr.String(), pid),
		"mkbridge: "+l.Attrs().HardwareAddr.String()+": the bridge's own MAC address\n")
	if ends := f.hostEnds(t); len(ends) != 0 {
		t.Errorf("ports made: %v", ends)
	}
}

// TestUserRefusedBridge: a bridge the policy does not name, one it names
// that does not exist, is down or is not a bridge.
func TestUserRefusedBridge(t *testing.T) {
	f := userSetup(t)
	pid := pidOf(f.container(t))
	down, veth := f.br+"d", f.br+"v"
	f.policy(t, f.u.Name+" "+f.br+" 2\n@"+f.u.Name+" "+down+" 1\n"+f.uid+" "+veth+" 1\n"+f.u.Name+" nsbtnone 1\n", 0o644)
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: down}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netlink.LinkDel(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: down}}) })
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: veth}, PeerName: veth + "p"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netlink.LinkDel(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: veth}}) })
	who := "uid " + f.uid + " (" + f.u.Name + ")"
	testutil.Fails(t, f.run(t, pid), "mkbridge: bridge nsbox0: not allowed to "+who+": no rule of /etc/nsbox/usernet names you and nsbox0\n")
	testutil.Fails(t, f.run(t, "-b", "nsbtother", pid), "mkbridge: bridge nsbtother: not allowed to "+who+": no rule of /etc/nsbox/usernet names you and nsbtother\n")
	testutil.Fails(t, f.run(t, "-b", "nsbtnone", pid), "mkbridge: nsbtnone: no such bridge (mkbridge makes none for an unprivileged user)\n")
	testutil.Fails(t, f.run(t, "-b", down, pid), "mkbridge: "+down+": the bridge is down (mkbridge brings it up for root only)\n")
	testutil.Fails(t, f.run(t, "-b", veth, pid), "mkbridge: "+veth+": exists and is not a bridge (type veth)\n")
	if l, err := netlink.LinkByName(down); err != nil || l.Attrs().Flags&1 != 0 {
		t.Errorf("the bridge that was down: %v %v", l, err)
	}
}

// TestUserRefusedPolicy: a policy file that is missing, not root's alone,
// reached through a symbolic link, not a regular file, or malformed
// refuses every request.
func TestUserRefusedPolicy(t *testing.T) {
	f := userSetup(t)
	pid := pidOf(f.container(t))
	nsd := filepath.Join(f.etc, "nsbox")
	p := filepath.Join(nsd, "usernet")
	rule := f.u.Name + " " + f.br + " 2\n"
	for _, c := range []struct {
		name  string
		setup func()
		msg   string
	}{
		{"missing", func() { os.Remove(p) }, "bridge " + f.br + ": not allowed to uid " + f.uid + ": cannot open /etc/nsbox/usernet: No such file or directory"},
		{"writable by others", func() { os.Chmod(p, 0o666) }, "/etc/nsbox/usernet: refused: /etc/nsbox/usernet is writable by group or others (mode 0666)"},
		{"writable by its group", func() { os.Chmod(p, 0o664) }, "/etc/nsbox/usernet: refused: /etc/nsbox/usernet is writable by group or others (mode 0664)"},
		{"the user's", func() { os.Chown(p, f.u.UID, f.u.GID) }, "/etc/nsbox/usernet: refused: /etc/nsbox/usernet is owned by uid " + f.uid + ", not root"},
		{"directory writable", func() { os.Chmod(nsd, 0o777) }, "/etc/nsbox/usernet: refused: /etc/nsbox is writable by group or others (mode 0777)"},
		{"symlink", func() {
			os.Rename(p, p+".real")
			os.Symlink("usernet.real", p)
		}, "/etc/nsbox/usernet: refused: /etc/nsbox/usernet is a symbolic link"},
		{"directory symlink", func() {
			os.Rename(nsd, nsd+".real")
			os.Symlink("nsbox.real", nsd)
			t.Cleanup(func() { os.Remove(nsd); os.RemoveAll(nsd + ".real") })
		}, "/etc/nsbox/usernet: refused: /etc/nsbox is a symbolic link"},
		{"a directory", func() { os.Remove(p); os.Mkdir(p, 0o755) }, "/etc/nsbox/usernet: refused: /etc/nsbox/usernet is not a regular file"},
		{"malformed", func() { os.WriteFile(p, []byte(rule+"@staff "+f.br+" many\n"), 0o644) }, "/etc/nsbox/usernet: line 2: invalid COUNT 'many' (1 to 1000)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f.policy(t, rule, 0o644)
			c.setup()
			testutil.Fails(t, f.run(t, "-b", f.br, pid), "mkbridge: "+c.msg+"\n")
		})
	}
	if ends := f.hostEnds(t); len(ends) != 0 {
		t.Errorf("ports made: %v", ends)
	}
}

// TestUserRefusedTargets: namespaces that are not the user's, however they
// are reached: another user's (root's) process, PID 1, the host's
// namespace through /proc/1/ns/net, /proc/self/ns/net or a symbolic link
// to it, a descriptor of it (/proc/self/fd/N, /dev/fd/N), root's pin
// under /run/netns, another user's pin, "fd:N".
func TestUserRefusedTargets(t *testing.T) {
	f := userSetup(t)
	rootC := container(t, f.bin)
	other := testutil.Start(t, testutil.Opts{}, "setpriv", "--reuid", "52999", "--regid", "52999", "--clear-groups",
		f.bin, "unshare", "-r", "-n", "sleep", "600").WaitExec(t, "sleep", 10*time.Second)
	pinDir := t.TempDir()
	os.Chmod(pinDir, 0o755)
	otherPin := filepath.Join(pinDir, "net")
	if err := os.WriteFile(otherPin, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(nsPath(other), otherPin, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(otherPin, unix.MNT_DETACH) })
	netnsName := fmt.Sprintf("nsbtu%d", os.Getpid())
	testutil.Must(t, testutil.Run(t, "ip", "netns", "add", netnsName), 0)
	t.Cleanup(func() { testutil.Run(t, "ip", "netns", "del", netnsName) })
	link := filepath.Join(f.u.Home, "hostnet")
	if err := os.Symlink("/proc/self/ns/net", link); err != nil {
		t.Fatal(err)
	}
	host := "the network namespace is the host's, or root's: its user namespace is the host's"
	for _, c := range []struct {
		script string // run by sh as the user; "$M" is mkbridge
		msg    string
	}{
		{`exec "$M" -b "$B" ` + pidOf(rootC), "/proc/" + pidOf(rootC) + "/ns/net: refused: process " + pidOf(rootC) + " is not yours (uid 0)"},
		{`exec "$M" -b "$B" 1`, "/proc/1/ns/net: refused: process 1 is not yours (uid 0)"},
		{`exec "$M" -b "$B" ` + pidOf(other), "/proc/" + pidOf(other) + "/ns/net: refused: process " + pidOf(other) + " is not yours (uid 52999)"},
		{`exec "$M" -b "$B" /proc/1/ns/net`, "/proc/1/ns/net: refused: not yours: uid " + f.uid + " cannot open it: Permission denied"},
		{`exec "$M" -b "$B" /proc/self/ns/net`, "/proc/self/ns/net: refused: " + host},
		{`exec "$M" -b "$B" ` + link, link + ": refused: " + host},
		{`exec 3</proc/self/ns/net; exec "$M" -b "$B" /proc/self/fd/3`, "/proc/self/fd/3: refused: " + host},
		{`exec 3</proc/self/ns/net; exec "$M" -b "$B" /dev/fd/3`, "/dev/fd/3: refused: " + host},
		{`exec "$M" -b "$B" ` + netnsName, "/run/netns/" + netnsName + ": refused: " + host},
		{`exec 3</run/netns/` + netnsName + `; exec "$M" -b "$B" /proc/self/fd/3`, "/proc/self/fd/3: refused: " + host},
		{`exec "$M" -b "$B" ` + otherPin, otherPin + ": refused: the network namespace is not yours: its user namespace belongs to uid 52999"},
		{`exec 3<` + otherPin + `; exec "$M" -b "$B" fd:3`, "cannot open /run/netns/fd:3: No such file or directory"},
		{`exec "$M" -b "$B" /etc/passwd`, "/etc/passwd: not a network namespace"},
	} {
		testutil.Fails(t, f.sh(t, testutil.Opts{Env: []string{"B=" + f.br}}, c.script), "mkbridge: "+c.msg+"\n")
	}
	if ends := f.hostEnds(t); len(ends) != 0 {
		t.Errorf("ports made: %v", ends)
	}
}

// TestUserRecycledPID: the user's container has exited and its PID now
// names root's process (made to reuse it through ns_last_pid): refused,
// that process untouched.
func TestUserRecycledPID(t *testing.T) {
	f := userSetup(t)
	c := f.container(t)
	pid := c.Pid()
	c.Stop()
	var root *testutil.Proc
	for try := 0; try < 50 && root == nil; try++ {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0o644); err != nil {
			t.Skipf("ns_last_pid: %v", err)
		}
		p := testutil.Start(t, testutil.Opts{}, f.bin, "unshare", "-n", "sleep", "600")
		if p.Pid() == pid {
			root = p.WaitExec(t, "sleep", 10*time.Second)
		} else {
			p.Stop()
		}
	}
	if root == nil {
		t.Skipf("PID %d was not reused (other processes forked meanwhile)", pid)
	}
	testutil.Fails(t, f.run(t, "-b", f.br, strconv.Itoa(pid)), fmt.Sprintf("mkbridge: /proc/%d/ns/net: refused: process %d is not yours (uid 0)\n", pid, pid))
	if ends := f.hostEnds(t); len(ends) != 0 {
		t.Errorf("ports made: %v", ends)
	}
}

// TestUserDeletesOnlyTheirs: a port root made in the user's container is
// not the user's to delete, by target or by host end.
func TestUserDeletesOnlyTheirs(t *testing.T) {
	f := userSetup(t)
	c := f.container(t)
	host, _ := parseOut(t, testutil.Run(t, f.bin, "mkbridge", "-b", f.br, pidOf(c)))
	testutil.Fails(t, f.run(t, "-d", pidOf(c)), fmt.Sprintf("mkbridge: /proc/%d/ns/net: no port of uid %s has its peer in this network namespace\n", c.Pid(), f.uid))
	testutil.Fails(t, f.run(t, "-d", host), fmt.Sprintf("mkbridge: %s: not a port made for uid %s\n", host, f.uid))
	testutil.Fails(t, f.run(t, "-d", "lo"), fmt.Sprintf("mkbridge: lo: not a port made for uid %s\n", f.uid))
	if _, ok := f.hostEnds(t)[host]; !ok {
		t.Errorf("root's port was removed")
	}
	testutil.Must(t, testutil.Run(t, f.bin, "mkbridge", "-d", pidOf(c)), 0)
}

// TestUserEnvironmentAndStreams: the variables the program (Go's runtime,
// nsbox's stages, the C constructor, libc) could read change nothing; a
// stage marker is refused outright; closed standard streams cannot make a
// file or socket the helper opens stand in for them.
func TestUserEnvironmentAndStreams(t *testing.T) {
	f := userSetup(t)
	c := f.container(t)
	env := []string{"LC_ALL=de_DE.UTF-8", "LANG=fr_FR.UTF-8", "LANGUAGE=fr", "USER=root", "LOGNAME=root", "HOME=/root",
		"GODEBUG=panicnil=1,madvdontneed=1", "GOTRACEBACK=crash", "GOMAXPROCS=1", "_NSBOX_NOFAST=1", "NETNS_RUN_DIR=" + f.u.Home,
		"LD_PRELOAD=" + f.u.Home + "/x.so", "TMPDIR=" + f.u.Home, "PATH=" + f.u.Home}
	m := filepath.Join(f.dir, "mkbridge")
	r := testutil.RunWith(t, testutil.Opts{User: f.u, Etc: f.etc, Env: env}, m, "-b", "nsbox0", pidOf(c))
	testutil.Fails(t, r, "mkbridge: bridge nsbox0: not allowed to uid "+f.uid+" ("+f.u.Name+"): no rule of /etc/nsbox/usernet names you and nsbox0\n")
	r = testutil.RunWith(t, testutil.Opts{User: f.u, Etc: f.etc, Env: env}, m, "-b", f.br, pidOf(c))
	host, _ := parseOut(t, r)
	testutil.Must(t, f.run(t, "-d", host), 0)
	r = testutil.RunWith(t, testutil.Opts{User: f.u, Etc: f.etc, Env: []string{"_NSBOX_STAGE=unshare"}}, m, "-b", f.br, pidOf(c))
	if r.Code != 126 || r.Stderr != "nsbox: internal stage refused: the process is set-user-ID or has file capabilities\n" {
		t.Errorf("a stage marker: %s", r)
	}
	// Closed streams: Go's runtime opens /dev/null in their place.
	r = f.sh(t, testutil.Opts{}, `"$M" -b "$1" "$2" <&- >&- 2>&-; echo "exit $?"`, f.br, pidOf(c))
	if r.Stdout != "exit 0\n" || r.Stderr != "" || len(f.hostEnds(t)) != 1 {
		t.Errorf("closed streams: %s, ports %v", r, f.hostEnds(t))
	}
	r = f.sh(t, testutil.Opts{}, `"$M" -b nsbox0 "$1" <&- >&- 2>&-; echo "exit $?"`, pidOf(c))
	if r.Stdout != "exit 1\n" || r.Stderr != "" {
		t.Errorf("closed streams, refused: %s", r)
	}
	testutil.Must(t, f.run(t, "-d", pidOf(c)), 0)
	if ends := f.hostEnds(t); len(ends) != 0 {
		t.Errorf("ports left: %v", ends)
	}
}

// TestUserFileCaps: installed with file capabilities (make
// install-setcap: the CGO_ENABLED=0 build with cap_net_admin and
// cap_sys_admin) mkbridge does the same; the cgo build so installed
// refuses, and so does setuidmap's copy (its capabilities) run as
// mkbridge; the other applets refuse to run with them.
func TestUserFileCaps(t *testing.T) {
	f := userSetup(t)
	c := f.container(t)
	f.dir = testutil.CapsCopy(t, testutil.PureGoBinary(t), "cap_net_admin,cap_sys_admin+ep", "mkbridge", "unshare")
	host, _ := parseOut(t, f.run(t, "-b", f.br, pidOf(c)))
	f.ping(t, c, "10.215.0.1")
	testutil.Fails(t, f.run(t, "-b", f.br, "--nat", pidOf(c)), "mkbridge: --nat: not allowed to an unprivileged user: NAT and forwarding are the administrator's\n")
	testutil.Must(t, f.run(t, "-d", host), 0)
	testutil.Fails(t, testutil.RunAs(t, f.u, filepath.Join(f.dir, "unshare"), "-n", "true"),
		"unshare: refusing to run with file capabilities: only setuidmap and mkbridge may be installed privileged\n")
	g := *f
	g.dir = testutil.CapsCopy(t, testutil.Binary(t), "cap_net_admin,cap_sys_admin+ep", "mkbridge")
	testutil.Fails(t, g.run(t, "-b", f.br, pidOf(c)), "mkbridge: refusing to run with file capabilities: this build uses cgo and cannot drop them on every thread; install the CGO_ENABLED=0 build (make install-setcap)\n")
	g.dir = testutil.CapsCopy(t, testutil.PureGoBinary(t), "cap_setuid,cap_setgid,cap_setfcap+ep", "mkbridge")
	testutil.Fails(t, g.run(t, "-b", f.br, pidOf(c)), "mkbridge: cannot set capabilities: Operation not permitted\n")
	if ends := f.hostEnds(t); len(ends) != 0 {
		t.Errorf("ports left: %v", ends)
	}
}

// TestUserPureGoSetuid: the CGO_ENABLED=0 build, set-user-ID, does the
// same.
func TestUserPureGoSetuid(t *testing.T) {
	f := userSetup(t)
	c := f.container(t)
	f.dir = testutil.SetuidCopy(t, testutil.PureGoBinary(t), "mkbridge")
	host, _ := parseOut(t, f.run(t, "-b", f.br, pidOf(c)))
	testutil.Must(t, f.run(t, "-d", host), 0)
}
