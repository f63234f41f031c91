package mkbridge_test

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/pin"
)

// These tests run the built binary as root on containers they make
// themselves (nsbox unshare -n, pins), on bridges named nsbt*, and send
// traffic only between addresses of namespaces they made (the containers
// and the test bridge's own address). Each checks that no link, mount,
// /run/netns entry or process is left.

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

var brSeq int

// setup: root, /run/netns as iproute2 makes it, the leak check, the
// binary, a bridge name of the test prefix (removed at cleanup if a
// failing test left it, which the leak check reports anyway).
func setup(t *testing.T) (bin, br string) {
	t.Helper()
	testutil.RequireRoot(t)
	if err := pin.PrepareNetnsDir(); err != nil {
		t.Fatalf("PrepareNetnsDir: %v", err)
	}
	testutil.CheckNoLeaks(t, "/run/netns")
	bin = testutil.Binary(t)
	brSeq++
	br = fmt.Sprintf("nsbt%d-%d", os.Getpid()%100000, brSeq)
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(br); err == nil {
			netlink.LinkDel(l)
		}
	})
	return bin, br
}

// container starts "nsbox unshare -n sleep" and returns it once it sleeps
// in its new network namespace.
func container(t *testing.T, bin string) *testutil.Proc {
	t.Helper()
	return testutil.Start(t, testutil.Opts{}, bin, "unshare", "-n", "sleep", "600").WaitExec(t, "sleep", 10*time.Second)
}

func pidOf(p *testutil.Proc) string { return strconv.Itoa(p.Pid()) }

// parseOut parses mkbridge's line: HOST-IFNAME ADDR/PREFIX...
func parseOut(t *testing.T, r testutil.Result) (host string, addrs []netip.Prefix) {
	t.Helper()
	f := strings.Fields(r.Stdout)
	if r.Code != 0 || len(f) < 2 || strings.Count(r.Stdout, "\n") != 1 || r.Stderr != "" {
		t.Fatalf("mkbridge: want one line 'HOST ADDR...' and no stderr, got %s", r)
	}
	for _, s := range f[1:] {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			t.Fatalf("mkbridge printed %q: %v", r.Stdout, err)
		}
		addrs = append(addrs, p)
	}
	return f[0], addrs
}

// inNetns runs f on a thread in the network namespace at path (sockets
// made in f belong to it), then returns the thread to the test's own.
func inNetns(t *testing.T, path string, f func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("netns.Get: %v", err)
	}
	defer orig.Close()
	ns, err := netns.GetFromPath(path)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("open %s: %v", path, err)
	}
	defer ns.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("setns %s: %v", path, err)
	}
	defer func() {
		if err := netns.Set(orig); err == nil {
			runtime.UnlockOSThread()
		} // else the thread stays locked and dies with the goroutine
	}()
	f()
}

// echoServer listens on port in the namespace at path (the test's own when
// path is "") and echoes one line per connection until the test ends.
func echoServer(t *testing.T, path string, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	listen := func() { ln, err = net.Listen("tcp", addr) }
	if path == "" {
		listen()
	} else {
		inNetns(t, path, listen)
	}
	if err != nil {
		t.Fatalf("listen %s in %s: %v", addr, path, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				io.Copy(c, c)
			}()
		}
	}()
	return ln
}

// echo connects from the namespace at path ("" the test's own) to addr,
// sends a line and checks it comes back.
func echo(t *testing.T, path, addr string) {
	t.Helper()
	var c net.Conn
	var err error
	dial := func() { c, err = net.DialTimeout("tcp", addr, 5*time.Second) }
	if path == "" {
		dial()
	} else {
		inNetns(t, path, dial)
	}
	if err != nil {
		t.Errorf("from %q: dial %s: %v", path, addr, err)
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	msg := "hello " + addr + "\n"
	if _, err := io.WriteString(c, msg); err != nil {
		t.Errorf("from %q: write to %s: %v", path, addr, err)
		return
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
		t.Errorf("from %q: echo from %s: %q, %v", path, addr, buf, err)
	}
}

func hostPort(a netip.Addr, port int) string {
	return net.JoinHostPort(a.String(), strconv.Itoa(port))
}

func nsPath(p *testutil.Proc) string { return fmt.Sprintf("/proc/%d/ns/net", p.Pid()) }

func linkExists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}

// TestSetupTwoContainers: two containers on a new bridge get the first
// two free addresses, eth0 up, lo up, a default route via the bridge; TCP
// works between them and between each and the bridge address; teardown by
// PID leaves the bridge, --delete-bridge removes it.
func TestSetupTwoContainers(t *testing.T) {
	bin, br := setup(t)
	a, b := container(t, bin), container(t, bin)
	r := testutil.Run(t, bin, "mkbridge", "-b", br, "--bridge-addr", "10.201.1.1/24", pidOf(a))
	hostA, addrA := parseOut(t, r)
	r = testutil.Run(t, bin, "mkbridge", "--bridge", br, pidOf(b))
	hostB, addrB := parseOut(t, r)
	if addrA[0].String() != "10.201.1.2/24" || addrB[0].String() != "10.201.1.3/24" || len(addrA) != 1 || len(addrB) != 1 {
		t.Fatalf("addresses %v and %v, want 10.201.1.2/24 and 10.201.1.3/24", addrA, addrB)
	}
	ino := testutil.NsInode(t, a.Pid(), "net")
	if want := fmt.Sprintf("nsb%x", ino); hostA != want {
		t.Errorf("host end %s, want %s", hostA, want)
	}
	for _, h := range []string{hostA, hostB} {
		l, err := netlink.LinkByName(h)
		if err != nil {
			t.Fatalf("host end %s: %v", h, err)
		}
		bl, _ := netlink.LinkByName(br)
		if l.Attrs().MasterIndex != bl.Attrs().Index || l.Attrs().Flags&net.FlagUp == 0 {
			t.Errorf("host end %s: master %d (bridge %d), flags %v", h, l.Attrs().MasterIndex, bl.Attrs().Index, l.Attrs().Flags)
		}
		// One queue each way, given at creation (see makeVeth).
		if a := l.Attrs(); a.NumTxQueues != 1 || a.NumRxQueues != 1 {
			t.Errorf("host end %s: %d tx and %d rx queues, want 1 and 1", h, a.NumTxQueues, a.NumRxQueues)
		}
	}
	// Inside: eth0 with the address, lo up, default route.
	out := testutil.Run(t, "nsenter", "--net="+nsPath(a), "ip", "-o", "addr", "show", "dev", "eth0")
	if !strings.Contains(out.Stdout, "inet 10.201.1.2/24") {
		t.Errorf("eth0 in A: %s", out)
	}
	out = testutil.Run(t, "nsenter", "--net="+nsPath(a), "ip", "route", "show", "default")
	if strings.TrimSpace(out.Stdout) != "default via 10.201.1.1 dev eth0" {
		t.Errorf("default route in A: %s", out)
	}
	out = testutil.Run(t, "nsenter", "--net="+nsPath(a), "ip", "-o", "link", "show", "dev", "lo")
	if !strings.Contains(out.Stdout, ",UP") {
		t.Errorf("lo in A: %s", out)
	}
	// TCP: B -> A, A -> B, A -> bridge, bridge -> B.
	echoServer(t, nsPath(a), ":7001")
	echoServer(t, nsPath(b), ":7001")
	echoServer(t, "", "10.201.1.1:7001")
	echo(t, nsPath(b), hostPort(addrA[0].Addr(), 7001))
	echo(t, nsPath(a), hostPort(addrB[0].Addr(), 7001))
	echo(t, nsPath(a), "10.201.1.1:7001")
	echo(t, "", hostPort(addrB[0].Addr(), 7001))

	// A third run on A: eth0 exists.
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "-b", br, pidOf(a)),
		fmt.Sprintf("mkbridge: eth0: interface already exists in /proc/%d/ns/net\n", a.Pid()))
	// Teardown by PID and by host end; the bridge stays until asked.
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", pidOf(a)), 0)
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", hostB), 0)
	for _, h := range []string{hostA, hostB} {
		if linkExists(h) {
			t.Errorf("%s still exists after mkbridge -d", h)
		}
	}
	out = testutil.Run(t, "nsenter", "--net="+nsPath(a), "ip", "-o", "link", "show", "dev", "eth0")
	if out.Code == 0 {
		t.Errorf("eth0 still in A after mkbridge -d: %s", out)
	}
	if !linkExists(br) {
		t.Fatalf("mkbridge -d removed the bridge")
	}
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "-d", pidOf(a)),
		fmt.Sprintf("mkbridge: /proc/%d/ns/net: no mkbridge interface has its peer in this network namespace\n", a.Pid()))
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "--delete-bridge", "-b", br), 0)
	if linkExists(br) {
		t.Errorf("--delete-bridge left %s", br)
	}
}

// TestDeleteBridgeOnlyWhenEmpty: --delete-bridge refuses while a port is
// left, and refuses a bridge mkbridge did not make.
func TestDeleteBridgeOnlyWhenEmpty(t *testing.T) {
	bin, br := setup(t)
	a := container(t, bin)
	host, _ := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, "--bridge-addr", "10.201.2.1/24", pidOf(a)))
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "--delete-bridge", "-b", br), "mkbridge: "+br+": not removed: 1 port(s) left\n")
	if !linkExists(br) || !linkExists(host) {
		t.Fatalf("a refused --delete-bridge removed something")
	}
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", "--delete-bridge", pidOf(a)), 0)
	if linkExists(br) || linkExists(host) {
		t.Errorf("-d --delete-bridge left %s or %s", br, host)
	}
	// A bridge that someone else made.
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: br, TxQLen: -1}}); err != nil {
		t.Fatal(err)
	}
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "--delete-bridge", "-b", br), "mkbridge: "+br+": not made by mkbridge: not removed\n")
	if !linkExists(br) {
		t.Errorf("--delete-bridge removed a foreign bridge")
	}
}

// TestPreexistingBridgeStays: on a bridge made beforehand (with its
// address) mkbridge allocates from the bridge's subnet; a failure (the
// address asked for is taken) leaves the bridge as it was; teardown leaves
// it.
func TestPreexistingBridgeStays(t *testing.T) {
	bin, br := setup(t)
	testutil.Must(t, testutil.Run(t, "ip", "link", "add", br, "type", "bridge"), 0)
	testutil.Must(t, testutil.Run(t, "ip", "addr", "add", "10.201.3.1/24", "dev", br), 0)
	testutil.Must(t, testutil.Run(t, "ip", "link", "set", br, "up"), 0)
	a, b := container(t, bin), container(t, bin)
	_, addrs := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, "--bridge-addr", "10.202.0.1/16", pidOf(a)))
	if addrs[0].String() != "10.201.3.2/24" {
		t.Errorf("address %v on a bridge with 10.201.3.1/24", addrs)
	}
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "-b", br, "-a", "10.201.3.2", pidOf(b)),
		"mkbridge: 10.201.3.2: address already in use on bridge "+br+"\n")
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "-b", br, "-a", "10.201.3.1", pidOf(b)),
		"mkbridge: 10.201.3.1: address already in use on bridge "+br+"\n")
	_, addrs = parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, "-a", "10.201.3.200", pidOf(b)))
	if addrs[0].String() != "10.201.3.200/24" {
		t.Errorf("explicit address: got %v", addrs)
	}
	if got := sysNet(t, br, "addr_assign_type"); got != "1" {
		t.Errorf("the existing bridge's addr_assign_type is %s, not 1 as ip link add made it", got)
	}
	if got := sysNet(t, br, "bridge/multicast_snooping"); got != "1" {
		t.Errorf("the existing bridge's multicast_snooping is %s, not 1 as ip link add made it", got)
	}
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", pidOf(a), pidOf(b)), 0)
	if !linkExists(br) {
		t.Fatalf("teardown removed a bridge mkbridge did not make")
	}
	out := testutil.Run(t, "ip", "-o", "addr", "show", "dev", br)
	if !strings.Contains(out.Stdout, "10.201.3.1/24") || strings.Contains(out.Stdout, "10.202.") {
		t.Errorf("the bridge's addresses changed: %s", out)
	}
	testutil.Must(t, testutil.Run(t, "ip", "link", "del", br), 0)
}

// TestPins: a pinned network namespace file with no process left, and a
// /run/netns name, are targets as good as a PID; -d takes them too.
func TestPins(t *testing.T) {
	bin, br := setup(t)
	dir := t.TempDir()
	a := container(t, bin)
	file := filepath.Join(dir, "net")
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pidOf(a), "--net="+file), 0)
	t.Cleanup(func() { testutil.Run(t, bin, "pin", "-d", file) })
	a.Signal(unix.SIGKILL)
	a.Wait()
	name := fmt.Sprintf("nsbt-pin-%d", os.Getpid())
	b := container(t, bin)
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pidOf(b), "--netns", name), 0)
	t.Cleanup(func() { testutil.Run(t, bin, "pin", "-d", "--netns", name) })

	_, addrA := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, "--bridge-addr", "10.201.4.1/24", file))
	_, addrB := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, name))
	echoServer(t, file, ":7002")
	echo(t, "/run/netns/"+name, hostPort(addrA[0].Addr(), 7002))
	// Options after the first operand are operands (getopt '+'): refused
	// before anything is removed.
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "-d", file, name, "--delete-bridge"),
		"mkbridge: cannot open /run/netns/--delete-bridge: No such file or directory\n")
	echo(t, "/run/netns/"+name, hostPort(addrA[0].Addr(), 7002))
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", "--delete-bridge", file, name), 0)
	if linkExists(br) {
		t.Errorf("bridge %s left", br)
	}
	if addrB[0].String() != "10.201.4.3/24" {
		t.Errorf("B's address %v", addrB)
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", file), 0)
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", "--netns", name), 0)
}

// TestIPv6: a bridge with an IPv4 and an IPv6 address; auto gives the
// container one of each, usable at once (no DAD: not tentative), and a
// default route for each family; TCP over IPv6 to the bridge and between
// containers.
func TestIPv6(t *testing.T) {
	bin, br := setup(t)
	a, b := container(t, bin), container(t, bin)
	_, addrA := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, "--bridge-addr", "10.201.5.1/24", "--bridge-addr", "fd00:201:5::1/64", pidOf(a)))
	_, addrB := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, "-a", "auto", "-a", "fd00:201:5::99", pidOf(b)))
	if len(addrA) != 2 || addrA[0].String() != "10.201.5.2/24" || addrA[1].String() != "fd00:201:5::2/64" {
		t.Errorf("A's addresses: %v", addrA)
	}
	if len(addrB) != 2 || addrB[0].String() != "fd00:201:5::99/64" || addrB[1].String() != "10.201.5.3/24" {
		t.Errorf("B's addresses: %v", addrB)
	}
	out := testutil.Run(t, "nsenter", "--net="+nsPath(a), "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global")
	if !strings.Contains(out.Stdout, "fd00:201:5::2/64") || strings.Contains(out.Stdout, "tentative") {
		t.Errorf("IPv6 address of A: %s", out)
	}
	out = testutil.Run(t, "nsenter", "--net="+nsPath(a), "ip", "-6", "route", "show", "default")
	if !strings.HasPrefix(out.Stdout, "default via fd00:201:5::1 dev eth0") {
		t.Errorf("IPv6 default route of A: %s", out)
	}
	echoServer(t, nsPath(a), "[::]:7003")
	echoServer(t, "", "[fd00:201:5::1]:7003")
	echo(t, nsPath(b), "[fd00:201:5::2]:7003")
	echo(t, nsPath(b), "[fd00:201:5::1]:7003")
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", "--delete-bridge", pidOf(a), pidOf(b)), 0)
}

// TestOptions: --ifname, --host-ifname, --mtu, --mac, --gateway none.
func TestOptions(t *testing.T) {
	bin, br := setup(t)
	a := container(t, bin)
	host := br + "h"
	r := testutil.Run(t, bin, "mkbridge", "-b", br, "--bridge-addr", "10.201.6.1/24", "-i", "net0", "--host-ifname", host,
		"--mtu", "1400", "--mac", "02:00:00:00:20:16", "-g", "none", "-a", "10.201.6.50/24", pidOf(a))
	h, addrs := parseOut(t, r)
	if h != host || addrs[0].String() != "10.201.6.50/24" {
		t.Errorf("got %s %v", h, addrs)
	}
	out := testutil.Run(t, "nsenter", "--net="+nsPath(a), "ip", "-o", "link", "show", "dev", "net0")
	if !strings.Contains(out.Stdout, "mtu 1400") || !strings.Contains(out.Stdout, "link/ether 02:00:00:00:20:16") {
		t.Errorf("net0: %s", out)
	}
	out = testutil.Run(t, "nsenter", "--net="+nsPath(a), "ip", "route", "show", "default")
	if out.Stdout != "" {
		t.Errorf("-g none: default route %q", out.Stdout)
	}
	l, err := netlink.LinkByName(host)
	if err != nil || l.Attrs().MTU != 1400 {
		t.Errorf("host end %s: %v %v", host, l, err)
	}
	// A second interface in the same container, derived name, on the same bridge.
	h2, addrs2 := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, "-i", "eth1", "-g", "none", pidOf(a)))
	if !strings.HasPrefix(h2, "nsb") || len(h2) > 15 || addrs2[0].String() != "10.201.6.2/24" {
		t.Errorf("second interface: %s %v", h2, addrs2)
	}
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-v", "-d", "--delete-bridge", pidOf(a)), 0)
}

// TestBadInput: every bad name, address, target is refused with one line,
// exit 1, before anything is created.
func TestBadInput(t *testing.T) {
	bin, br := setup(t)
	a := container(t, bin)
	pid := pidOf(a)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, nil, 0o644)
	// A PID that no longer exists: a process that exited.
	gone := testutil.Start(t, testutil.Opts{}, "true")
	gone.Wait()
	goneNs := fmt.Sprintf("/proc/%d/ns/net", gone.Pid())
	cases := []struct {
		args   []string
		stderr string
	}{
		{[]string{"-b", "nsbtaaaaaaaaaaaaaa", pid}, "mkbridge: bridge name 'nsbtaaaaaaaaaaaaaa' is too long (18 bytes; at most 15)\n"},
		{[]string{"-b", br, "-i", "eth0123456789abcd", pid}, "mkbridge: interface name 'eth0123456789abcd' is too long (17 bytes; at most 15)\n"},
		{[]string{"-b", br, "--host-ifname", "a/b", pid}, "mkbridge: invalid host interface name 'a/b' (no '/', ':' or white space)\n"},
		{[]string{"-b", br, "-a", "10.201.7.300", pid}, "mkbridge: invalid address '10.201.7.300'\n"},
		{[]string{"-b", br, "-a", "10.201.7.3/33", pid}, "mkbridge: invalid address '10.201.7.3/33'\n"},
		{[]string{"-b", br, "-a", "10.201.7.0/24", pid}, "mkbridge: '10.201.7.0/24' is not a host address of 10.201.7.0/24\n"},
		{[]string{"-b", br, "--bridge-addr", "10.201.7.1", pid}, "mkbridge: invalid address/prefix '10.201.7.1'\n"},
		{[]string{"-b", br, "--bridge-addr", "10.201.7.255/24", pid}, "mkbridge: '10.201.7.255/24' is not a host address of 10.201.7.0/24\n"},
		{[]string{"-b", br, "--bridge-addr", "10.201.7.1/24", "-a", "10.201.8.5", pid}, "mkbridge: 10.201.8.5: not in the subnet of bridge " + br + " (10.201.7.0/24)\n"},
		{[]string{"-b", br, "--bridge-addr", "10.201.7.1/24", "-a", "10.201.7.1", pid}, "mkbridge: 10.201.7.1: address already in use on bridge " + br + "\n"},
		{[]string{"-b", br, "-g", "10.1", pid}, "mkbridge: invalid gateway '10.1'\n"},
		{[]string{"-b", br, "--mtu", "20", pid}, "mkbridge: invalid MTU '20' (68 to 65535)\n"},
		{[]string{"-b", br, "--mac", "01:00:00:00:00:01", pid}, "mkbridge: invalid MAC address '01:00:00:00:00:01': a multicast address\n"},
		{[]string{"-b", br, "99999999"}, "mkbridge: cannot open /proc/99999999/ns/net: No such process\n"},
		{[]string{"-b", br, strconv.Itoa(gone.Pid())}, "mkbridge: cannot open " + goneNs + ": No such process\n"},
		{[]string{"-b", br, plain}, "mkbridge: " + plain + ": not a network namespace\n"},
		{[]string{"-b", br, "/proc/" + pid + "/ns/uts"}, "mkbridge: /proc/" + pid + "/ns/uts: not a network namespace\n"},
		{[]string{"-b", br, "nsbt-no-such-netns"}, "mkbridge: cannot open /run/netns/nsbt-no-such-netns: No such file or directory\n"},
		{[]string{"-b", br, fmt.Sprintf("/proc/%d/ns/net", os.Getpid())}, fmt.Sprintf("mkbridge: /proc/%d/ns/net: is mkbridge's own network namespace (the host side), not a container's\n", os.Getpid())},
		{[]string{"-d", "nsbt-nothing"}, "mkbridge: cannot open /run/netns/nsbt-nothing: No such file or directory\n"},
		{[]string{"--delete-bridge", "-b", br}, "mkbridge: " + br + ": no such bridge\n"},
	}
	for _, c := range cases {
		testutil.Fails(t, testutil.Run(t, append([]string{bin, "mkbridge"}, c.args...)...), c.stderr)
		if linkExists(br) {
			t.Fatalf("mkbridge %v created %s", c.args, br)
		}
	}
	usage := []struct {
		args []string
		msg  string
	}{
		{nil, "no target specified (a PID, a network namespace file or a /run/netns name)"},
		{[]string{"-a", "10.201.7.5", pid, pid}, "--addr 10.201.7.5 takes only one <target> (--addr auto takes several)"},
		{[]string{"--host-ifname", br + "h", pid, pid}, "--host-ifname takes only one <target>"},
		{[]string{"-d"}, "--delete needs a <target> or <host-ifname>"},
		{[]string{"-d", "-a", "auto", pid}, "--delete takes no --addr"},
		{[]string{"--frobnicate"}, "unrecognized option '--frobnicate'"},
	}
	for _, u := range usage {
		testutil.Fails(t, testutil.Run(t, append([]string{bin, "mkbridge"}, u.args...)...),
			"mkbridge: "+u.msg+"\nTry 'mkbridge --help' for more information.\n")
	}
	// Nothing was touched in the container either.
	out := testutil.Run(t, "nsenter", "--net="+nsPath(a), "ip", "-o", "link")
	if strings.Count(out.Stdout, "\n") != 1 || !strings.Contains(out.Stdout, "lo:") || strings.Contains(out.Stdout, ",UP") {
		t.Errorf("the container's links changed: %s", out)
	}
}

// TestConcurrent: 20 mkbridge processes at once on one new bridge: all
// succeed, no address twice, every container answers TCP from the bridge;
// then 20 tear-downs at once, each with --delete-bridge.
func TestConcurrent(t *testing.T) {
	bin, br := setup(t)
	const n = 20
	cs := make([]*testutil.Proc, n)
	for i := range cs {
		cs[i] = container(t, bin)
	}
	results := make([]testutil.Result, n)
	var wg sync.WaitGroup
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = testutil.Run(t, bin, "mkbridge", "-b", br, "--bridge-addr", "10.201.9.1/24", pidOf(cs[i]))
		}()
	}
	wg.Wait()
	seen := map[netip.Addr]int{}
	for i, r := range results {
		_, addrs := parseOut(t, r)
		a := addrs[0].Addr()
		if j, dup := seen[a]; dup {
			t.Errorf("containers %d and %d both got %s", j, i, a)
		}
		seen[a] = i
		echoServer(t, nsPath(cs[i]), ":7004")
	}
	for a := range seen {
		echo(t, "", hostPort(a, 7004))
	}
	// And 20 tear-downs at once, each asking for the bridge to go: each
	// succeeds, whether it finds ports left or the bridge gone, and the
	// last one out removes it.
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = testutil.Run(t, bin, "mkbridge", "-d", "--delete-bridge", pidOf(cs[i]))
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
			t.Errorf("container %d: -d --delete-bridge: %s", i, r)
		}
	}
	if linkExists(br) {
		t.Errorf("%s left after every port went with -d --delete-bridge", br)
	}
}

// TestDeadContainerFreesItsAddress: when a container's namespace dies its
// veth pair goes, and with it the record of its address: the address can
// be given again (explicitly at once; auto goes on after the last address
// it gave, and comes round to it).
func TestDeadContainerFreesItsAddress(t *testing.T) {
	bin, br := setup(t)
	a := container(t, bin)
	host, addrA := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, "--bridge-addr", "10.201.10.1/29", pidOf(a)))
	b := container(t, bin)
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "-b", br, "-a", addrA[0].Addr().String(), pidOf(b)),
		"mkbridge: "+addrA[0].Addr().String()+": address already in use on bridge "+br+"\n")
	a.Signal(unix.SIGKILL)
	a.Wait()
	for deadline := time.Now().Add(10 * time.Second); linkExists(host); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still there 10 s after its namespace died", host)
		}
	}
	_, addrB := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, "-a", addrA[0].Addr().String(), pidOf(b)))
	if addrB[0] != addrA[0] {
		t.Errorf("after A died, B got %v, not A's %v", addrB, addrA)
	}
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", pidOf(b)), 0)
	// A /29 has 6 host addresses, the bridge has one: five containers
	// fill it, auto wraps round to the free ones, a sixth finds none.
	var cs []*testutil.Proc
	seen := map[netip.Prefix]bool{}
	for i := 0; i < 5; i++ {
		c := container(t, bin)
		cs = append(cs, c)
		_, ad := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, pidOf(c)))
		if seen[ad[0]] {
			t.Errorf("%v given twice", ad[0])
		}
		seen[ad[0]] = true
	}
	last := container(t, bin)
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "-b", br, pidOf(last)), "mkbridge: no free address left in 10.201.10.0/29 on bridge "+br+"\n")
	args := []string{bin, "mkbridge", "-d", "--delete-bridge"}
	for _, c := range cs {
		args = append(args, pidOf(c))
	}
	testutil.Must(t, testutil.Run(t, args...), 0)
}

// sysctl reads a /proc/sys value; restoreSysctl puts it back at cleanup.
func sysctl(t *testing.T, name string) string {
	t.Helper()
	return strings.TrimSpace(testutil.ReadFile(t, "/proc/sys/"+name))
}

func restoreSysctl(t *testing.T, name string) string {
	t.Helper()
	v := sysctl(t, name)
	t.Cleanup(func() {
		if sysctl(t, name) != v {
			t.Errorf("%s changed from %s (restored)", name, v)
			os.WriteFile("/proc/sys/"+name, []byte(v), 0o644)
		}
	})
	return v
}

// natRules returns the rules of the inet table nsbox-BR's postrouting
// chain as "nfproto:N masq" strings, or nil when the table is missing.
func natRules(t *testing.T, br string) []string {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if tb.Name != "nsbox-"+br {
			continue
		}
		rules, err := c.GetRules(tb, &nftables.Chain{Name: "postrouting", Table: tb})
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, r := range rules {
			s := ""
			for _, e := range r.Exprs {
				switch e := e.(type) {
				case *expr.Cmp:
					s += fmt.Sprintf("%x ", e.Data)
				case *expr.Masq:
					s += "masq"
				}
			}
			out = append(out, s)
		}
		return out
	}
	return nil
}

// TestNAT: --nat makes one masquerade rule per bridge subnet in the
// table inet nsbox-BR and turns forwarding on; removing the bridge removes
// the table and sets forwarding back. No packet is sent.
func TestNAT(t *testing.T) {
	bin, br := setup(t)
	fwd4 := restoreSysctl(t, "net/ipv4/ip_forward")
	fwd6 := restoreSysctl(t, "net/ipv6/conf/all/forwarding")
	a, b := container(t, bin), container(t, bin)
	parseOut(t, testutil.Run(t, bin, "mkbridge", "--nat", "-b", br, "--bridge-addr", "10.201.11.1/24", "--bridge-addr", "fd00:201:11::1/64", pidOf(a)))
	ifname := hexName(br)
	rules := natRules(t, br)
	if len(rules) != 2 || !strings.HasPrefix(rules[0], "02 0ac90b00 "+ifname) || !strings.HasSuffix(rules[0], "masq") ||
		!strings.HasPrefix(rules[1], "0a fd000201001100000000000000000000 "+ifname) {
		t.Errorf("NAT rules: %q", rules)
	}
	if sysctl(t, "net/ipv4/ip_forward") != "1" || sysctl(t, "net/ipv6/conf/all/forwarding") != "1" {
		t.Errorf("forwarding not on after --nat")
	}
	// A second --nat run on the same bridge adds nothing.
	parseOut(t, testutil.Run(t, bin, "mkbridge", "--nat", "-b", br, pidOf(b)))
	if got := natRules(t, br); len(got) != 2 {
		t.Errorf("second --nat: rules %q", got)
	}
	r := testutil.Run(t, bin, "mkbridge", "--check", "--nat", "-b", br)
	if !strings.Contains(r.Stdout, "ok      NAT rules for "+br+" are in place (table inet nsbox-"+br+")\n") {
		t.Errorf("--check --nat: %s", r)
	}
	// Tearing down the containers keeps the bridge's NAT; removing the bridge removes it.
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", pidOf(a), pidOf(b)), 0)
	if natRules(t, br) == nil {
		t.Errorf("NAT table gone with the containers")
	}
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "--delete-bridge", "-b", br), 0)
	if got := natRules(t, br); got != nil {
		t.Errorf("NAT table left after --delete-bridge: %q", got)
	}
	if sysctl(t, "net/ipv4/ip_forward") != fwd4 || sysctl(t, "net/ipv6/conf/all/forwarding") != fwd6 {
		t.Errorf("forwarding not restored: %s %s, was %s %s", sysctl(t, "net/ipv4/ip_forward"), sysctl(t, "net/ipv6/conf/all/forwarding"), fwd4, fwd6)
	}
}

// hexName is an interface name as nftables compares it: 16 bytes, hex.
func hexName(s string) string {
	b := make([]byte, 16)
	copy(b, s)
	return fmt.Sprintf("%x", b)
}

// TestCheck: --check names a bridge without an address, an IPv6 address
// still tentative, lo down in the target, a forward chain that drops (when
// br_netfilter is on), ip_forward off with --nat; and says ok for a good
// setup.
func TestCheck(t *testing.T) {
	bin, br := setup(t)
	a := container(t, bin)
	// A bridge without an address, with an IPv6 address that does DAD.
	testutil.Must(t, testutil.Run(t, "ip", "link", "add", br, "type", "bridge"), 0)
	testutil.Must(t, testutil.Run(t, "ip", "link", "set", br, "up"), 0)
	r := testutil.Run(t, bin, "mkbridge", "--check", "-b", br, pidOf(a))
	for _, want := range []string{
		"ok      bridge " + br + " is up\n",
		"PROBLEM bridge " + br + " has no address",
		fmt.Sprintf("PROBLEM lo is down in /proc/%d/ns/net", a.Pid()),
		fmt.Sprintf("PROBLEM no global address in /proc/%d/ns/net\n", a.Pid()),
		fmt.Sprintf("PROBLEM no default route in /proc/%d/ns/net\n", a.Pid()),
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("--check: no %q in\n%s", want, r)
		}
	}
	if r.Code != 1 || r.Stderr != "" {
		t.Errorf("--check with problems: %s", r)
	}
	testutil.Must(t, testutil.Run(t, "ip", "addr", "add", "fd00:201:12::1/64", "dev", br), 0)
	r = testutil.Run(t, bin, "mkbridge", "--check", "-b", br)
	if !strings.Contains(r.Stdout, "PROBLEM fd00:201:12::1/64 on "+br+" is still tentative") {
		t.Errorf("--check: tentative address not reported:\n%s", r)
	}
	// Only IPv6 on the bridge: its forwarding is the one checked.
	if sysctl(t, "net/ipv6/conf/all/forwarding") == "0" {
		r = testutil.Run(t, bin, "mkbridge", "--check", "--nat", "-b", br)
		if !strings.Contains(r.Stdout, "PROBLEM net.ipv6.conf.all.forwarding is 0: --nat needs forwarding") ||
			strings.Contains(r.Stdout, "ip_forward") {
			t.Errorf("--check --nat with IPv6 forwarding 0:\n%s", r)
		}
	}
	testutil.Must(t, testutil.Run(t, "ip", "link", "del", br), 0)

	// A good setup: everything ok, exit 0.
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-b", br, "--bridge-addr", "10.201.12.1/24", pidOf(a)), 0)
	r = testutil.Run(t, bin, "mkbridge", "--check", "-b", br, pidOf(a))
	if r.Code != 0 || strings.Contains(r.Stdout, "PROBLEM") {
		if !strings.Contains(r.Stdout, "FORWARD drops") { // the host's own firewall
			t.Errorf("--check on a good setup: %s", r)
		}
	}
	// A forward chain that drops, seen when br_netfilter passes bridged
	// traffic to it. The chain is the test's own and removed at once.
	if v, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables"); err == nil && strings.TrimSpace(string(v)) == "1" {
		c, err := nftables.New()
		if err != nil {
			t.Fatal(err)
		}
		tb := c.AddTable(&nftables.Table{Name: br, Family: nftables.TableFamilyINet})
		drop := nftables.ChainPolicyDrop
		c.AddChain(&nftables.Chain{Name: "fwd", Table: tb, Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &drop})
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		r = testutil.Run(t, bin, "mkbridge", "--check", "-b", br)
		c.DelTable(tb)
		if err := c.Flush(); err != nil {
			t.Error(err)
		}
		if !strings.Contains(r.Stdout, "PROBLEM br_netfilter is loaded (bridge-nf-call-iptables=1) and FORWARD drops by default (inet "+br+" fwd)") {
			t.Errorf("--check with a dropping forward chain:\n%s", r)
		}
	}
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", "--delete-bridge", pidOf(a)), 0)
}

// TestNew: --new makes the namespace (as ip netns add) and sets it up in
// the same process; on a failure the new namespace is removed again.
func TestNew(t *testing.T) {
	bin, br := setup(t)
	name := fmt.Sprintf("nsbt-new-%d", os.Getpid())
	t.Cleanup(func() {
		if _, err := os.Stat("/run/netns/" + name); err == nil {
			testutil.Run(t, bin, "pin", "-d", "--netns", name)
		}
	})
	_, addrs := parseOut(t, testutil.Run(t, bin, "mkbridge", "--new", "-b", br, "--bridge-addr", "10.201.13.1/24", name))
	echoServer(t, "/run/netns/"+name, ":7005")
	echo(t, "", hostPort(addrs[0].Addr(), 7005))
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "--new", "-b", br, name), "mkbridge: /run/netns/"+name+": already a namespace pin\n")
	other := name + "b"
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "--new", "-b", br, "-a", addrs[0].Addr().String(), other),
		"mkbridge: "+addrs[0].Addr().String()+": address already in use on bridge "+br+"\n")
	if _, err := os.Stat("/run/netns/" + other); err == nil {
		t.Errorf("a failed --new left /run/netns/%s", other)
	}
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "--new", "-b", br, "123"), "mkbridge: --new takes a /run/netns name, not '123'\n")
	// Several: the one that exists already fails alone, and stays as it
	// was; the others are made and set up.
	n2, n3 := name+"c", name+"d"
	t.Cleanup(func() {
		for _, n := range []string{n2, n3} {
			if _, err := os.Stat("/run/netns/" + n); err == nil {
				testutil.Run(t, bin, "pin", "-d", "--netns", n)
			}
		}
	})
	r := testutil.Run(t, bin, "mkbridge", "--new", "-b", br, n2, name, n3)
	f := strings.Fields(r.Stdout)
	if r.Code != 1 || r.Stderr != "mkbridge: /run/netns/"+name+": already a namespace pin\n" || strings.Count(r.Stdout, "\n") != 2 || len(f) != 4 {
		t.Fatalf("--new with three names, one taken: %s", r)
	}
	echo(t, "", hostPort(addrs[0].Addr(), 7005))
	echoServer(t, "/run/netns/"+n3, ":7005")
	echo(t, "/run/netns/"+n2, strings.Replace(f[3], "/24", ":7005", 1))
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", "--delete-bridge", name, n2, n3), 0)
	for _, n := range []string{name, n2, n3} {
		testutil.Must(t, testutil.Run(t, bin, "pin", "-d", "--netns", n), 0)
	}
}

// sysNet reads /sys/class/net/LINK/ATTR.
func sysNet(t *testing.T, link, attr string) string {
	t.Helper()
	return strings.TrimSpace(testutil.ReadFile(t, "/sys/class/net/"+link+"/"+attr))
}

// TestSeveralTargets: one mkbridge sets up several containers in turn and
// prints a line for each, in order; a target that fails (one that cannot
// be opened; one for which no address is left, after its veth pair was
// made) is reported on stderr and rolled back alone, the others go on, and
// the exit status is 1. They all answer TCP; -d takes them all down.
func TestSeveralTargets(t *testing.T) {
	bin, br := setup(t)
	// A /29 has 6 host addresses, the bridge has one: room for five.
	var cs []*testutil.Proc
	for i := 0; i < 6; i++ {
		cs = append(cs, container(t, bin))
	}
	args := []string{bin, "mkbridge", "-b", br, "--bridge-addr", "10.201.14.1/29", pidOf(cs[0]), "nsbt-no-such-netns"}
	for _, c := range cs[1:] {
		args = append(args, pidOf(c))
	}
	r := testutil.Run(t, args...)
	wantErr := "mkbridge: cannot open /run/netns/nsbt-no-such-netns: No such file or directory\n" +
		"mkbridge: no free address left in 10.201.14.0/29 on bridge " + br + "\n"
	want := ""
	for i, c := range cs[:5] {
		want += fmt.Sprintf("nsb%x 10.201.14.%d/29\n", testutil.NsInode(t, c.Pid(), "net"), i+2)
	}
	if r.Code != 1 || r.Stdout != want || r.Stderr != wantErr {
		t.Errorf("mkbridge with 7 targets: %s\nwant exit 1, stdout:\n%sstderr:\n%s", r, want, wantErr)
	}
	// Nothing is left of the failed set-up: no host end, no eth0, lo down.
	last := cs[5]
	if h := fmt.Sprintf("nsb%x", testutil.NsInode(t, last.Pid(), "net")); linkExists(h) {
		t.Errorf("the failed target's host end %s is left", h)
	}
	out := testutil.Run(t, "nsenter", "--net="+nsPath(last), "ip", "-o", "link")
	if strings.Count(out.Stdout, "\n") != 1 || strings.Contains(out.Stdout, ",UP") {
		t.Errorf("the failed target's links: %s", out)
	}
	for i, c := range cs[:5] {
		echoServer(t, nsPath(c), ":7006")
		echo(t, "", fmt.Sprintf("10.201.14.%d:7006", i+2))
	}
	echo(t, nsPath(cs[0]), "10.201.14.6:7006")
	args = []string{bin, "mkbridge", "-d", "--delete-bridge"}
	for _, c := range cs[:5] {
		args = append(args, pidOf(c))
	}
	testutil.Must(t, testutil.Run(t, args...), 0)
	if linkExists(br) {
		t.Errorf("bridge %s left", br)
	}
}

// TestBridgeMACFixed: a bridge mkbridge creates has a MAC address of its
// own, set (addr_assign_type 3, NET_ADDR_SET), which it keeps while ports
// with lower and higher MAC addresses come and go, down to none; --check
// says so. A bridge made by "ip link add", whose address was never set,
// takes its lowest port's, and --check reports it.
func TestBridgeMACFixed(t *testing.T) {
	bin, br := setup(t)
	a, b, c := container(t, bin), container(t, bin), container(t, bin)
	parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, "--bridge-addr", "10.201.15.1/24", pidOf(b)))
	if got := sysNet(t, br, "addr_assign_type"); got != "3" {
		t.Errorf("addr_assign_type of a new bridge: %s, want 3", got)
	}
	// (and no multicast snooping: see newBridge)
	if got := sysNet(t, br, "bridge/multicast_snooping"); got != "0" {
		t.Errorf("multicast_snooping of a new bridge: %s, want 0", got)
	}
	mac := sysNet(t, br, "address")
	hw, err := net.ParseMAC(mac)
	if err != nil || hw[0]&3 != 2 {
		t.Errorf("bridge MAC %s: not a locally administered unicast address (%v)", mac, err)
	}
	same := func(when string) {
		t.Helper()
		if got := sysNet(t, br, "address"); got != mac {
			t.Errorf("%s: the bridge's MAC is %s, was %s", when, got, mac)
		}
	}
	// Ports with the lowest and the highest addresses come: by a change of
	// address, and by attaching a veth that has the lowest.
	hostA, _ := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, pidOf(a)))
	hostC, _ := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, pidOf(c)))
	testutil.Must(t, testutil.Run(t, "ip", "link", "set", hostA, "address", "00:00:00:00:00:01"), 0)
	testutil.Must(t, testutil.Run(t, "ip", "link", "set", hostC, "address", "fe:ff:ff:ff:ff:fe"), 0)
	same("ports with lower and higher MACs attached")
	testutil.Must(t, testutil.Run(t, "ip", "link", "add", br+"x", "address", "00:00:00:00:00:02", "type", "veth", "peer", "name", br+"y"), 0)
	testutil.Must(t, testutil.Run(t, "ip", "link", "set", br+"x", "master", br), 0)
	same("a veth with a low MAC attached")
	testutil.Must(t, testutil.Run(t, "ip", "link", "del", br+"x"), 0)
	// ... and go: the lowest first, then all.
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", pidOf(a)), 0)
	same("the port with the lowest MAC gone")
	r := testutil.Run(t, bin, "mkbridge", "--check", "-b", br)
	if !strings.Contains(r.Stdout, "ok      bridge "+br+" has a fixed MAC address ("+mac+")\n") || strings.Contains(r.Stdout, "MAC address (addr") {
		t.Errorf("--check on mkbridge's bridge:\n%s", r)
	}
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", pidOf(b), pidOf(c)), 0)
	same("no port left")
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "--delete-bridge", "-b", br), 0)

	// The contrast: a bridge whose address was never set follows its
	// lowest port, and --check says it is not fixed.
	testutil.Must(t, testutil.Run(t, "ip", "link", "add", br, "type", "bridge"), 0)
	testutil.Must(t, testutil.Run(t, "ip", "addr", "add", "10.201.15.1/24", "dev", br), 0)
	testutil.Must(t, testutil.Run(t, "ip", "link", "set", br, "up"), 0)
	hostA, _ = parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, pidOf(a)))
	testutil.Must(t, testutil.Run(t, "ip", "link", "set", hostA, "address", "00:00:00:00:00:01"), 0)
	if got := sysNet(t, br, "address"); got != "00:00:00:00:00:01" {
		t.Errorf("a bridge made by ip link add has %s, not its lowest port's 00:00:00:00:00:01", got)
	}
	r = testutil.Run(t, bin, "mkbridge", "--check", "-b", br)
	want := "PROBLEM bridge " + br + " has no fixed MAC address (addr_assign_type 1): it takes the lowest of its ports' and changes when that port goes"
	if r.Code != 1 || !strings.Contains(r.Stdout, want) || !strings.Contains(r.Stdout, "(ip link set "+br+" address 00:00:00:00:00:01 fixes it)\n") {
		t.Errorf("--check on a bridge made by ip link add:\n%s", r)
	}
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", pidOf(a)), 0)
	testutil.Must(t, testutil.Run(t, "ip", "link", "del", br), 0)
}
