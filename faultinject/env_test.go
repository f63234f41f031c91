package faultinject

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/netsetup"
	"github.com/nsbox/nsbox/pkg/pin"
)

// env is a case's world: the binary, names of the test prefix (nsbt) for
// its bridge and namespaces, a subnet of its own, its containers, and the
// cgroup its commands run in.
type env struct {
	t     *testing.T
	bin   string
	id    int
	cg    *testutil.Cgroup
	ctrs  []*testutil.Proc // containers (nsbox unshare -n sleep), outside the cgroup
	netns []string         // /run/netns names made by the fixture
	dirs  []string         // directories whose entries are checked
	tmp   string
}

func newEnv(t *testing.T, id int) *env {
	t.Helper()
	if err := pin.PrepareNetnsDir(); err != nil {
		t.Fatalf("PrepareNetnsDir: %v", err)
	}
	testutil.CheckNoLeaks(t, "/run/netns")
	e := &env{t: t, bin: testutil.Binary(t), id: id, tmp: t.TempDir()}
	e.cg = testutil.NewCgroup(t)
	return e
}

// name is a name of the test prefix for this case: a bridge's or a
// namespace's (at most 15 bytes, an interface name's limit).
func (e *env) name(suffix string) string {
	return fmt.Sprintf("nsbt%d%c%s", os.Getpid()%10000, 'a'+rune(e.id), suffix)
}

// subnet is the case's IPv4 /24: 10.203.ID.0/24, whose .1 is the bridge's.
func (e *env) subnet() string { return fmt.Sprintf("10.203.%d", 10+e.id) }

// nsbox is a command line of the binary under test.
func (e *env) nsbox(args ...string) []string { return append([]string{e.bin}, args...) }

// container starts a container whose network namespace is a target, and
// returns its PID (outside the cgroup: it is the test's, not the case's).
func (e *env) container() string { return e.startContainer("-n") }

// startContainer starts "nsbox unshare OPTIONS sleep 600" and returns its
// PID once it sleeps in its namespaces.
func (e *env) startContainer(opts ...string) string {
	argv := append(append([]string{e.bin, "unshare"}, opts...), "sleep", "600")
	p := testutil.Start(e.t, testutil.Opts{}, argv...).WaitExec(e.t, "sleep", 10*time.Second)
	e.ctrs = append(e.ctrs, p)
	return fmt.Sprint(p.Pid())
}

// namedNetns makes /run/netns/NAME with ip netns add (removed at cleanup).
func (e *env) namedNetns(name string) string {
	testutil.Must(e.t, testutil.Run(e.t, "ip", "netns", "add", name), 0)
	e.netns = append(e.netns, name)
	e.t.Cleanup(func() { testutil.Run(e.t, "ip", "netns", "del", name) })
	return name
}

// leftProcs reports whether the cgroup holds a process besides strace
// (which follows what a kill left until it ends).
func (e *env) leftProcs() bool {
	for _, pid := range e.cg.Procs() {
		if testutil.ExecComm(pid) != "strace" {
			return true
		}
	}
	return false
}

// run runs cl, not killed.
func (e *env) run(cl cmdline) result { return e.exec(nil, cl, 30*time.Second) }

// must runs cl, not killed, and fails the test unless it succeeds.
func (e *env) must(cl cmdline) result {
	e.t.Helper()
	r := e.run(cl)
	if r.code != 0 {
		e.t.Fatalf("%s", r)
	}
	return r
}

// hostState is everything a round compares: testutil's (mounts,
// children, links, /run/netns, the directories), the nftables tables,
// the forwarding sysctls, and the links inside each container and named
// namespace of the fixture.
type hostState struct {
	hs    testutil.HostState
	extra []string
}

func (e *env) state() hostState {
	return hostState{hs: testutil.TakeHostState(e.dirs...), extra: e.extra()}
}

// diff describes how b differs from a ("" when it does not).
func (a hostState) diff(b hostState) string {
	d := a.hs.Diff(b.hs)
	if !slices.Equal(a.extra, b.extra) {
		d += fmt.Sprintf("nftables tables, sysctls, links inside the containers:\n  was %q\n  now %q\n", a.extra, b.extra)
	}
	return d
}

// settle waits up to timeout for the state to come back to base, and
// returns the last difference.
func (e *env) settle(base hostState, timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		d := base.diff(e.state())
		if d == "" || time.Now().After(deadline) {
			return d
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// extra is the part of the state testutil does not take.
func (e *env) extra() []string {
	var out []string
	if c, err := nftables.New(); err == nil {
		ts, err := c.ListTables()
		if err != nil {
			out = append(out, "nft: "+err.Error())
		}
		for _, t := range ts {
			out = append(out, fmt.Sprintf("nft table %d %s", t.Family, t.Name))
		}
	}
	for _, s := range []string{"net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"} {
		b, _ := os.ReadFile("/proc/sys/" + s)
		out = append(out, s+"="+strings.TrimSpace(string(b)))
	}
	for _, p := range e.ctrs {
		out = append(out, linksIn(fmt.Sprintf("/proc/%d/ns/net", p.Pid()))...)
	}
	for _, n := range e.netns {
		out = append(out, linksIn(filepath.Join("/run/netns", n))...)
	}
	slices.Sort(out)
	return out
}

// linksIn lists the links of the network namespace at path, "path: name".
func linksIn(path string) []string {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return []string{path + ": " + err.Error()}
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return []string{path + ": " + err.Error()}
	}
	defer h.Close()
	ls, err := h.LinkList()
	if err != nil {
		return []string{path + ": " + err.Error()}
	}
	var out []string
	for _, l := range ls {
		out = append(out, path+": "+l.Attrs().Name)
	}
	return out
}

// scrub removes, by force, whatever of the case's is left after a failure:
// the mounts in its directory, its /run/netns names, its links (the
// bridge's pending name included) and its bridge's NAT table.
func (e *env) scrub() {
	prefix := e.name("")
	if ms, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		var points []string
		for _, line := range strings.Split(string(ms), "\n") {
			if f := strings.Fields(line); len(f) > 4 && (strings.HasPrefix(f[4], e.tmp+"/") ||
				strings.HasPrefix(f[4], "/run/netns/"+prefix)) {
				points = append(points, f[4])
			}
		}
		slices.Reverse(points)
		for _, p := range points {
			unix.Unmount(p, unix.MNT_DETACH)
		}
	}
	if ents, err := os.ReadDir("/run/netns"); err == nil {
		for _, d := range ents {
			if strings.HasPrefix(d.Name(), prefix) && !slices.Contains(e.netns, d.Name()) {
				os.Remove(filepath.Join("/run/netns", d.Name()))
			}
		}
	}
	if ls, err := netlink.LinkList(); err == nil {
		for _, l := range ls {
			if n := l.Attrs().Name; strings.HasPrefix(n, prefix) || n == netsetup.PendingBridgeName(e.name("br")) {
				netlink.LinkDel(l)
			}
		}
	}
	netsetup.DisableNAT(e.name("br"))
}
