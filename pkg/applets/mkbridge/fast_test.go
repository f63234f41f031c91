package mkbridge_test

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/netsetup"
)

// The cgo build carries the commonest form of mkbridge out in C, before
// the Go runtime starts (pkg/nsexec/fast_mkbridge.c): options first, one
// TARGET, the bridge existing and up, run as root. These tests run each
// case twice from the same starting state (a bridge made the same way, a
// new target): as is, and with _NSBOX_NOFAST=1 (the Go applet, the
// reference). Both runs must give the same exit status, stderr and
// stdout, and leave the same links, addresses and routes in the container
// and the same host end, records and bridge alias on the host; a run that
// fails must leave everything as it was. With GODEBUG=inittrace=1 the
// cases marked fast must not start the Go runtime, the others must.
//
// Subnets: 10.231.0.0/16 and fd00:231::/32, no other test's. No packet is
// sent: the only traffic is netlink.

// fastMkbridgeFlipped turns the expectation of the fast cases around
// (they must start the Go runtime): set it to check the test's logic
// against a binary without the mkbridge fast path. Never commit it set.
var fastMkbridgeFlipped = false

type pathWant int

const (
	goPath   pathWant = iota // the fast path must leave it to the Go applet
	fastPath                 // the fast path carries it out
	anyPath                  // a failure the fast path may find before or after its first change
)

type bridgeKind int

const (
	brV4      bridgeKind = iota // made by a Go mkbridge run: 10.231.1.1/24
	brDual                      // made by a Go mkbridge run: 10.231.2.1/24, fd00:231:2::1/64
	brForeign                   // made by ip: 10.231.3.1/24, up, no alias
	brDown                      // brV4, then set down
	brNone                      // missing
	brSmall                     // made by a Go mkbridge run: 10.231.4.1/30 (one free address)
	brNoAddr                    // made by ip, up, no address
	brVeth                      // not a bridge: a veth of that name (peer NAME+"p")
)

type targetKind int

const (
	tPID     targetKind = iota // a container (nsbox unshare -n sleep): its PID
	tFile                      // a pin made by nsbox pin -t PID --net=FILE, the process gone
	tNetns                     // a /run/netns name made by ip netns add
	tPinName                   // a /run/netns name made by nsbox pin -t PID --netns
	tNew                       // nothing: --new NAME makes it
	tNone                      // none: the arguments name what they need
)

// fastEnv is one run's world.
type fastEnv struct {
	t       *testing.T
	bin     string
	br      string
	name    string // the /run/netns name of tNetns, tPinName, tNew
	dir     string // scratch directory (the pin file of tFile is dir/net)
	proc    *testutil.Proc
	nsPath  string // the container's network namespace ("" for none)
	target  string // what {t} stands for
	hostIfs []string
	undo    []func()
}

func (e *fastEnv) defer_(f func()) { e.undo = append(e.undo, f) }

var noFast = testutil.Opts{Env: []string{"_NSBOX_NOFAST=1"}}

// goRun runs the Go applet of nsbox (setting up and tearing down what the
// cases start from never takes the fast path).
func goRun(t *testing.T, bin string, args ...string) testutil.Result {
	t.Helper()
	return testutil.RunWith(t, noFast, append([]string{bin}, args...)...)
}

func mustRun(t *testing.T, argv ...string) string {
	t.Helper()
	r := testutil.Run(t, argv...)
	if r.Code != 0 {
		t.Fatalf("%s: %s", strings.Join(argv, " "), r)
	}
	return r.Stdout
}

// cip runs ip in the container's network namespace.
func (e *fastEnv) cip(args ...string) string {
	e.t.Helper()
	return mustRun(e.t, append([]string{"nsenter", "--net=" + e.nsPath, "ip"}, args...)...)
}

var scratchSeq int

// makeBridge makes the bridge of kind k as the case starts from it.
func makeBridge(t *testing.T, bin, br string, k bridgeKind) {
	t.Helper()
	viaGo := func(addrs ...string) {
		scratchSeq++
		n := fmt.Sprintf("nsbt-s%d-%d", os.Getpid()%100000, scratchSeq)
		args := []string{"mkbridge", "--new", "-b", br}
		for _, a := range addrs {
			args = append(args, "--bridge-addr", a)
		}
		testutil.Must(t, goRun(t, bin, append(args, n)...), 0)
		testutil.Must(t, goRun(t, bin, "mkbridge", "-d", n), 0)
		testutil.Must(t, goRun(t, bin, "pin", "-d", "--netns", n), 0)
	}
	switch k {
	case brV4, brDown:
		viaGo("10.231.1.1/24")
		if k == brDown {
			mustRun(t, "ip", "link", "set", br, "down")
		}
	case brDual:
		viaGo("10.231.2.1/24", "fd00:231:2::1/64")
	case brSmall:
		viaGo("10.231.4.1/30")
	case brForeign:
		mustRun(t, "ip", "link", "add", br, "type", "bridge")
		mustRun(t, "ip", "addr", "add", "10.231.3.1/24", "dev", br)
		mustRun(t, "ip", "link", "set", br, "up")
	case brNoAddr:
		mustRun(t, "ip", "link", "add", br, "type", "bridge")
		mustRun(t, "ip", "link", "set", br, "up")
	case brVeth:
		mustRun(t, "ip", "link", "add", br, "type", "veth", "peer", "name", br+"p")
	}
}

// removeBridge removes br (its NAT table with it) if it is there.
func removeBridge(t *testing.T, bin, br string) {
	t.Helper()
	if !linkExists(br) {
		return
	}
	if goRun(t, bin, "mkbridge", "--delete-bridge", "-b", br).Code != 0 {
		testutil.Run(t, "ip", "link", "del", br)
	}
}

func makeTarget(e *fastEnv, k targetKind) {
	t := e.t
	switch k {
	case tPID:
		e.proc = container(t, e.bin)
		e.nsPath, e.target = nsPath(e.proc), pidOf(e.proc)
		p := e.proc
		e.defer_(func() { p.Signal(unix.SIGKILL); p.Wait() })
	case tFile:
		p := container(t, e.bin)
		f := filepath.Join(e.dir, "net")
		testutil.Must(t, goRun(t, e.bin, "pin", "-t", pidOf(p), "--net="+f), 0)
		e.defer_(func() { goRun(t, e.bin, "pin", "-d", f) })
		p.Signal(unix.SIGKILL)
		p.Wait()
		e.nsPath, e.target = f, f
	case tNetns:
		mustRun(t, "ip", "netns", "add", e.name)
		e.defer_(func() { testutil.Run(t, "ip", "netns", "del", e.name) })
		e.nsPath, e.target = "/run/netns/"+e.name, e.name
	case tPinName:
		p := container(t, e.bin)
		testutil.Must(t, goRun(t, e.bin, "pin", "-t", pidOf(p), "--netns", e.name), 0)
		e.defer_(func() { goRun(t, e.bin, "pin", "-d", "--netns", e.name) })
		p.Signal(unix.SIGKILL)
		p.Wait()
		e.nsPath, e.target = "/run/netns/"+e.name, e.name
	case tNew:
		e.nsPath, e.target = "/run/netns/"+e.name, e.name
		e.defer_(func() {
			if _, err := os.Lstat(e.nsPath); err == nil {
				goRun(t, e.bin, "pin", "-d", "--netns", e.name)
			}
		})
	}
}

// Preparations a case adds to its starting state.
type prepFunc func(e *fastEnv)

// occupy gives another container the addresses (a Go run), so that they
// are taken on the bridge.
func occupy(addrs ...string) prepFunc {
	return func(e *fastEnv) {
		p := container(e.t, e.bin)
		args := []string{"mkbridge", "-b", e.br}
		for _, a := range addrs {
			args = append(args, "-a", a)
		}
		testutil.Must(e.t, goRun(e.t, e.bin, append(args, pidOf(p))...), 0)
		e.defer_(func() {
			goRun(e.t, e.bin, "mkbridge", "-d", pidOf(p))
			p.Signal(unix.SIGKILL)
			p.Wait()
		})
	}
}

// defaultRoute gives the container a link nsbtfd0 (a veth, its peer
// nsbtfd1 beside it: this kernel has no dummy links), up, with an
// address and a default route (v4, v6 or both), so that mkbridge's own
// default route of that family fails with EEXIST.
func defaultRoute(v4, v6 bool) prepFunc {
	return func(e *fastEnv) {
		e.cip("link", "add", "nsbtfd0", "type", "veth", "peer", "name", "nsbtfd1")
		e.cip("link", "set", "nsbtfd1", "up")
		if v4 {
			e.cip("addr", "add", "10.231.250.1/24", "dev", "nsbtfd0")
		}
		if v6 {
			e.cip("addr", "add", "fd00:231:250::1/64", "dev", "nsbtfd0", "nodad")
		}
		e.cip("link", "set", "nsbtfd0", "up")
		if v4 {
			e.cip("route", "add", "default", "via", "10.231.250.254")
		}
		if v6 {
			e.cip("-6", "route", "add", "default", "via", "fd00:231:250::fe")
		}
	}
}

func loUp(e *fastEnv) { e.cip("link", "set", "lo", "up") }

// containerLink makes a link of that name in the container (a veth, its
// peer NAME+"p").
func containerLink(name string) prepFunc {
	return func(e *fastEnv) { e.cip("link", "add", name, "type", "veth", "peer", "name", name+"p") }
}

// hostLink makes a link of that name on the host (a veth, its peer
// NAME+"p").
func hostLink(name string) prepFunc {
	return func(e *fastEnv) {
		mustRun(e.t, "ip", "link", "add", name, "type", "veth", "peer", "name", name+"p")
		e.defer_(func() { testutil.Run(e.t, "ip", "link", "del", name) })
	}
}

// brAddr adds an address to the bridge (ip addr add ARGS dev BR).
func brAddr(args ...string) prepFunc {
	return func(e *fastEnv) {
		mustRun(e.t, append(append([]string{"ip", "addr", "add"}, args...), "dev", e.br)...)
	}
}

// brAddrs adds n-1 addresses to the bridge, 10.231.(100+i).1/24 for i
// in 1..n-1: with the one it has, n.
func brAddrs(n int) prepFunc {
	return func(e *fastEnv) {
		for i := 1; i < n; i++ {
			brAddr(fmt.Sprintf("10.231.%d.1/24", i+100))(e)
		}
	}
}

// brMTU sets the bridge's MTU.
func brMTU(mtu string) prepFunc {
	return func(e *fastEnv) { mustRun(e.t, "ip", "link", "set", e.br, "mtu", mtu) }
}

// pinLink makes {d}/link, a symbolic link to the pin {d}/net.
func pinLink(e *fastEnv) {
	l := filepath.Join(e.dir, "link")
	if err := os.Symlink("net", l); err != nil {
		e.t.Fatal(err)
	}
	e.defer_(func() { os.Remove(l) })
}

// altName gives the container a link nsbtx0 with the altname NAME.
func altName(name string) prepFunc {
	return func(e *fastEnv) {
		containerLink("nsbtx0")(e)
		e.cip("link", "property", "add", "dev", "nsbtx0", "altname", name)
	}
}

func setAlias(alias string) prepFunc {
	return func(e *fastEnv) { mustRun(e.t, "ip", "link", "set", e.br, "alias", alias) }
}

// netnsAdd makes /run/netns/NAME (for --new on a name that exists).
func netnsAdd(e *fastEnv) {
	mustRun(e.t, "ip", "netns", "add", e.name)
	e.defer_(func() { testutil.Run(e.t, "ip", "netns", "del", e.name) })
}

var (
	reIndex     = regexp.MustCompile(`(?m)^\d+: `)
	reIfIndex   = regexp.MustCompile(`@if\d+`)
	reMAC       = regexp.MustCompile(`([0-9a-f]{2}:){5}[0-9a-f]{2}`)
	reNetnsID   = regexp.MustCompile(` link-netns(id)? \S+`)
	reLft       = regexp.MustCompile(`\\\s+valid_lft \S+ preferred_lft \S+`)
	reHostEnd   = regexp.MustCompile(`\bnsb[0-9a-f]+(\.[0-9a-f]{3})?\b`)
	reProcPID   = regexp.MustCompile(`/proc/[0-9]+/`)
	reSpaces    = regexp.MustCompile(`[ \t]+`)
	rePortState = regexp.MustCompile(`bridge_slave state (\S+)`)
	reGenMode   = regexp.MustCompile(`addrgenmode (\S+)`)
)

// norm takes out of a message or a state what legitimately differs
// between two runs: the host end's name derived from the namespace's
// inode, the PIDs of the containers, MACs, interface indexes, netns ids.
func norm(s string) string {
	s = reIfIndex.ReplaceAllString(s, "@if")
	s = reMAC.ReplaceAllString(s, "MAC")
	s = reNetnsID.ReplaceAllString(s, "")
	s = reHostEnd.ReplaceAllString(s, "nsbHOST")
	s = reProcPID.ReplaceAllString(s, "/proc/PID/")
	return s
}

// lines returns the non-empty lines of s, trimmed, without the IPv6
// link-local ones (made by the kernel, their DAD state a matter of time).
func lines(s string, sorted bool) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(reSpaces.ReplaceAllString(l, " "))
		if l == "" || strings.Contains(l, "fe80:") {
			continue
		}
		out = append(out, l)
	}
	if sorted {
		sort.Strings(out)
	}
	return out
}

// linkDetail picks from `ip -d link show` of one link what the tests
// compare: the first line, the kind, the bridge port state, addrgenmode,
// altnames and alias.
func linkDetail(out string) []string {
	var keep []string
	for i, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(reSpaces.ReplaceAllString(l, " "))
		switch {
		case i == 0:
			keep = append(keep, reIndex.ReplaceAllString(l, ""))
		case l == "veth" || l == "bridge":
			keep = append(keep, "kind "+l)
		case strings.HasPrefix(l, "altname ") || strings.HasPrefix(l, "alias "):
			keep = append(keep, l)
		}
		if m := rePortState.FindStringSubmatch(l); m != nil {
			keep = append(keep, "port state "+m[1])
		}
		if m := reGenMode.FindStringSubmatch(l); m != nil {
			keep = append(keep, "addrgenmode "+m[1])
		}
	}
	return keep
}

// fastState is what a run leaves (main), and the bridge's alias apart (a
// failed run may move the allocation hint on: it is only a hint).
type fastState struct{ main, alias string }

func (e *fastEnv) state() fastState {
	t := e.t
	var b strings.Builder
	section := func(name string, ls []string) {
		fmt.Fprintf(&b, "%s:\n", name)
		for _, l := range ls {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	if e.nsPath != "" {
		if _, err := os.Stat(e.nsPath); err != nil {
			fmt.Fprintf(&b, "%s: none\n", e.nsPath)
		} else {
			section("container links", lines(reIndex.ReplaceAllString(e.cip("-o", "link", "show"), ""), false))
			section("container addresses", lines(reLft.ReplaceAllString(reIndex.ReplaceAllString(e.cip("-o", "addr", "show"), ""), ""), false))
			section("container routes", append(lines(e.cip("-4", "route", "show", "table", "all"), true), lines(e.cip("-6", "route", "show", "table", "all"), true)...))
		}
	}
	alias := ""
	if linkExists(e.br) {
		d := linkDetail(testutil.Run(t, "ip", "-d", "link", "show", "dev", e.br).Stdout)
		var rest []string
		for _, l := range d {
			if strings.HasPrefix(l, "alias ") {
				alias = l
			} else {
				rest = append(rest, l)
			}
		}
		section("bridge", rest)
		section("bridge addresses", lines(reLft.ReplaceAllString(reIndex.ReplaceAllString(testutil.Run(t, "ip", "-o", "addr", "show", "dev", e.br).Stdout, ""), ""), false))
		var ports []string
		for _, l := range lines(testutil.Run(t, "ip", "-o", "link", "show", "master", e.br).Stdout, false) {
			f := strings.Fields(reIndex.ReplaceAllString(l, ""))
			ports = append(ports, strings.TrimSuffix(strings.SplitN(f[0], "@", 2)[0], ":"))
		}
		// In the order of their normalised descriptions: their names
		// differ between runs.
		var descs []string
		for _, p := range ports {
			descs = append(descs, norm(fmt.Sprintf("port %s:\n  %s\n", p, strings.Join(linkDetail(testutil.Run(t, "ip", "-d", "link", "show", "dev", p).Stdout), "\n  "))))
		}
		sort.Strings(descs)
		b.WriteString(strings.Join(descs, ""))
	} else {
		fmt.Fprintf(&b, "bridge: none\n")
	}
	// Host ends that would not be on the bridge.
	for _, h := range e.hostIfs {
		if linkExists(h) {
			section("host link "+h, linkDetail(testutil.Run(t, "ip", "-d", "link", "show", "dev", h).Stdout))
		}
	}
	if e.name != "" {
		if _, err := os.Lstat("/run/netns/" + e.name); err == nil {
			fmt.Fprintf(&b, "/run/netns/%s exists\n", e.name)
		}
	}
	return fastState{main: norm(b.String()), alias: alias}
}

// settled is the state once two looks 50 ms apart agree (carrier, port
// state: the kernel finishes some of it asynchronously).
func (e *fastEnv) settled() fastState {
	s := e.state()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		s2 := e.state()
		if s2 == s {
			break
		}
		s = s2
	}
	return s
}

type mkCase struct {
	args   []string // {br} {t} {n} {d} {h} {gone} {pid} replaced
	br     bridgeKind
	target targetKind
	prep   []prepFunc
	path   pathWant
	user   bool // run as the test's unprivileged user
	code   int  // the exit status the Go applet must give (-1: not checked)
}

// fastRun is one run of a case.
type fastRun struct {
	res             testutil.Result
	started         bool
	before, after   fastState
	label           string
	teardownFailure string
}

type fastWorld struct {
	bin, br, dir string
	name         string
	gone         int
	u            *testutil.User
	host         string // a --host-ifname name
}

func (w *fastWorld) run(t *testing.T, c mkCase, goApplet bool) fastRun {
	t.Helper()
	e := &fastEnv{t: t, bin: w.bin, br: w.br, name: w.name, dir: w.dir}
	defer func() {
		for i := len(e.undo) - 1; i >= 0; i-- {
			e.undo[i]()
		}
		removeBridge(t, w.bin, w.br)
	}()
	makeBridge(t, w.bin, w.br, c.br)
	makeTarget(e, c.target)
	for _, p := range c.prep {
		p(e)
	}
	var args []string
	pid := ""
	if e.proc != nil {
		pid = pidOf(e.proc)
	}
	r := strings.NewReplacer("{br}", w.br, "{t}", e.target, "{n}", w.name, "{d}", w.dir, "{h}", w.host,
		"{gone}", strconv.Itoa(w.gone), "{pid}", pid)
	for _, a := range c.args {
		args = append(args, r.Replace(a))
	}
	label := "mkbridge " + strings.Join(args, " ")
	if c.user {
		label = "as " + w.u.Name + ": " + label
	}
	// The host ends this run may make, wherever they end up.
	e.hostIfs = []string{w.host}
	if e.nsPath != "" && c.target != tNew {
		var st unix.Stat_t
		if err := unix.Stat(e.nsPath, &st); err == nil {
			for _, i := range []string{"eth0", "eth1", "net0", "lo"} {
				e.hostIfs = append(e.hostIfs, netsetup.HostIfName(st.Ino, i))
			}
		}
	}
	fr := fastRun{label: label}
	fr.before = e.settled()
	o := testutil.Opts{}
	if c.user {
		o.User = w.u
	}
	fr.res, fr.started = testutil.RunPath(t, o, goApplet, append([]string{w.bin, "mkbridge"}, args...)...)
	if c.target == tNew {
		var st unix.Stat_t
		if err := unix.Stat(e.nsPath, &st); err == nil {
			for _, i := range []string{"eth0", "eth1", "net0", "lo"} {
				e.hostIfs = append(e.hostIfs, netsetup.HostIfName(st.Ino, i))
			}
		}
	}
	fr.after = e.settled()
	// A run that set something up: mkbridge -d takes it all down again,
	// the host end and the container end (the container's links are
	// those it had before the run).
	if f := strings.Fields(fr.res.Stdout); fr.res.Code == 0 && e.target != "" && len(f) >= 2 && strings.HasPrefix(f[0], "nsb") && strings.Count(fr.res.Stdout, "\n") == 1 {
		linksBefore := ""
		if i := strings.Index(fr.before.main, "container links:"); i >= 0 {
			linksBefore = linkNames(fr.before.main[i:])
		}
		if td := goRun(t, w.bin, "mkbridge", "-d", e.target); td.Code != 0 {
			fr.teardownFailure = td.String()
		} else if linkExists(f[0]) {
			fr.teardownFailure = "the host end " + f[0] + " is left"
		} else if st := e.state().main; linksBefore != "" && linkNames(st[strings.Index(st, "container links:"):]) != linksBefore {
			fr.teardownFailure = "the container's links are not the ones it had before:\n" + st
		}
	}
	fr.res.Stdout, fr.res.Stderr = norm(fr.res.Stdout), norm(fr.res.Stderr)
	return fr
}

// stateDiff lists the lines of each state that the other lacks, under
// their section's heading.
func stateDiff(a, b string) string {
	keyed := func(s string) (keys []string, set map[string]int) {
		set = map[string]int{}
		head := ""
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "  ") {
				head = l
			}
			k := head + "\x00" + l
			if set[k] == 0 {
				keys = append(keys, k)
			}
			set[k]++
		}
		return keys, set
	}
	ka, sa := keyed(a)
	kb, sb := keyed(b)
	var out strings.Builder
	for _, k := range ka {
		if sa[k] > sb[k] {
			h, l, _ := strings.Cut(k, "\x00")
			fmt.Fprintf(&out, "- %s %s\n", h, l)
		}
	}
	for _, k := range kb {
		if sb[k] > sa[k] {
			h, l, _ := strings.Cut(k, "\x00")
			fmt.Fprintf(&out, "+ %s %s\n", h, l)
		}
	}
	return out.String()
}

// linkNames returns the names of the links of the "container links:"
// section that s starts with.
func linkNames(s string) string {
	var names []string
	for _, l := range strings.Split(s, "\n")[1:] {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		names = append(names, strings.TrimSuffix(strings.SplitN(strings.Fields(l)[0], "@", 2)[0], ":"))
	}
	return strings.Join(names, " ")
}

// compareRuns runs c both ways and reports every difference.
func (w *fastWorld) compareRuns(t *testing.T, c mkCase) {
	t.Helper()
	fast := w.run(t, c, false)
	slow := w.run(t, c, true)
	label := slow.label
	switch c.path {
	case fastPath:
		testutil.CheckPath(t, label, !fastMkbridgeFlipped, fast.started, slow.started)
	case goPath:
		testutil.CheckPath(t, label, false, fast.started, slow.started)
	case anyPath:
		if !slow.started {
			t.Errorf("%s with _NSBOX_NOFAST=1: the Go runtime did not start", label)
		}
	}
	t.Logf("%s: %s: %s", label, slow.res.Status(), strings.TrimSpace(slow.res.Stdout+" "+strings.SplitN(slow.res.Stderr, "\n", 2)[0]))
	if c.code >= 0 && slow.res.Code != c.code {
		t.Errorf("%s: the Go applet exits %d, the case expects %d:\n%s", label, slow.res.Code, c.code, slow.res)
	}
	if fast.res.Outcome() != slow.res.Outcome() {
		t.Errorf("%s: the fast path and the Go applet differ\n=== fast: %s\n=== Go: %s", label, fast.res.Outcome(), slow.res.Outcome())
	}
	if fast.before != slow.before {
		t.Errorf("%s: the two runs did not start from the same state (a test bug):\n%s%s\n--- and:\n%s%s", label, fast.before.main, fast.before.alias, slow.before.main, slow.before.alias)
	}
	if fast.after != slow.after {
		t.Errorf("%s: the states after the fast path (-) and the Go applet (+) differ:\n%s", label,
			stateDiff(fast.after.main+"bridge alias:\n  "+fast.after.alias+"\n", slow.after.main+"bridge alias:\n  "+slow.after.alias+"\n"))
	}
	for _, r := range []struct {
		how string
		fr  fastRun
	}{{"the fast path", fast}, {"the Go applet", slow}} {
		fr := r.fr
		if fr.res.Code != 0 && loResidue(fr.after.main) != loResidue(fr.before.main) {
			t.Errorf("%s: %s failed and left a change:\n--- before:\n%s--- after:\n%s", label, r.how, fr.before.main, fr.after.main)
		}
		if fr.teardownFailure != "" {
			t.Errorf("%s: mkbridge -d after %s: %s", label, r.how, fr.teardownFailure)
		}
	}
}

var (
	reLoQdisc   = regexp.MustCompile(`(?m)^(  lo: .*) qdisc noop `)
	reLoResidue = regexp.MustCompile(`(?m)^  (lo inet 127\.0\.0\.1/8 scope host lo|(local|broadcast) 127\.\S+ dev lo table local .*)\n`)
)

// loResidue takes out what the kernel leaves of lo having been up once,
// which a rollback that sets it down again cannot take back (the Go
// applet's behaviour as well): 127.0.0.1/8 and its local routes, and the
// qdisc (noop before the first up, noqueue after).
func loResidue(s string) string {
	s = reLoQdisc.ReplaceAllString(s, "$1 qdisc noqueue ")
	return reLoResidue.ReplaceAllString(s, "")
}

func newWorld(t *testing.T) *fastWorld {
	bin, br := setup(t)
	w := &fastWorld{bin: bin, br: br, dir: t.TempDir()}
	w.name = fmt.Sprintf("nsbt-fast-%d", os.Getpid())
	w.host = fmt.Sprintf("nsbth%d", os.Getpid()%100000)
	gone := testutil.Start(t, testutil.Opts{}, "true")
	gone.Wait()
	w.gone = gone.Pid()
	return w
}

// TestFastMkbridge: the forms the fast path takes, each with every kind
// of target and option spelling, and the post-change failures it must
// report itself.
func TestFastMkbridge(t *testing.T) {
	w := newWorld(t)
	cases := []mkCase{
		// 1. Auto on a bridge made by mkbridge, each kind of target.
		{args: []string{"-b", "{br}", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, target: tFile, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, target: tNetns, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, target: tPinName, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, br: brDual, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, br: brDual, target: tNetns, path: fastPath},
		// The spellings of -b.
		{args: []string{"-b{br}", "{t}"}, path: fastPath},
		{args: []string{"--bridge", "{br}", "{t}"}, path: fastPath},
		{args: []string{"--bridge={br}", "{t}"}, path: fastPath},
		// A bridge mkbridge did not make: the alias stays as it is.
		{args: []string{"-b", "{br}", "{t}"}, br: brForeign, path: fastPath},
		// Allocation hints: wrap round, garbage, out of the subnet.
		{args: []string{"-b", "{br}", "{t}"}, prep: []prepFunc{setAlias("nsbox-mkbridge bridge last=10.231.1.254")}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, prep: []prepFunc{setAlias("nsbox-mkbridge bridge last=garbage last6=::zz")}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, prep: []prepFunc{setAlias("nsbox-mkbridge bridge last=10.9.9.9")}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, prep: []prepFunc{setAlias("nsbox-mkbridge bridgeX last=10.231.1.7")}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, br: brDual, prep: []prepFunc{setAlias("nsbox-mkbridge bridge last6=fd00:231:2::ffff:ffff:ffff:ffff")}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, prep: []prepFunc{occupy("10.231.1.3", "10.231.1.4")}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, br: brDual, prep: []prepFunc{occupy("10.231.2.3", "fd00:231:2::3")}, path: fastPath},
		// 3. Explicit addresses, gateways, names.
		{args: []string{"-b", "{br}", "-a", "10.231.1.77", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "10.231.1.77/24", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "10.231.1.77/16", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "10.231.1.77/30", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "10.231.1.77/32", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-a10.231.1.78", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "--addr", "10.231.1.79", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "--addr=10.231.1.80", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "auto", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "auto", "-a", "auto", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "10.231.1.81", "-a", "auto", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "fd00:231:9::5/64", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "fd00:231:2::99", "{t}"}, br: brDual, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "fd00:231:2::99/64", "{t}"}, br: brDual, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "FD00:231:2:0::9a", "{t}"}, br: brDual, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "auto", "-a", "fd00:231:2::99", "{t}"}, br: brDual, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "fd00:231:2::99", "-a", "10.231.2.99", "{t}"}, br: brDual, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "10.231.3.50/24", "{t}"}, br: brNoAddr, path: fastPath},
		{args: []string{"-b", "{br}", "-g", "10.231.1.1", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-g", "10.231.1.254", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-g10.231.1.254", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "--gateway", "10.231.1.254", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "--gateway=10.231.1.254", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-g", "none", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-g", "none", "-g", "none", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-g", "none", "{t}"}, br: brDual, path: fastPath},
		{args: []string{"-b", "{br}", "-g", "fd00:231:2::1", "-g", "10.231.2.1", "{t}"}, br: brDual, path: fastPath},
		{args: []string{"-b", "{br}", "-g", "10.231.2.1", "{t}"}, br: brDual, path: fastPath},
		// An IPv4-mapped gateway: Go unmaps it; the fast path leaves it
		// to Go (fast_mkbridge.c's parse_ip).
		{args: []string{"-b", "{br}", "-g", "::ffff:10.231.1.1", "{t}"}, path: goPath},
		{args: []string{"-b", "{br}", "-i", "eth1", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-ieth1", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "--ifname", "net0", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "--ifname=net0", "{t}"}, target: tFile, path: fastPath},
		{args: []string{"-b", "{br}", "--host-ifname", "{h}", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "--host-ifname={h}", "{t}"}, target: tNetns, path: fastPath},
		{args: []string{"-b", "{br}", "--bridge-addr", "10.231.1.1/24", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "--bridge-addr=10.231.99.1/24", "--bridge-addr", "fd00:231:99::1/64", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "--bridge-addr", "10.231.99.1/24", "{t}"}, br: brForeign, path: fastPath},
		{args: []string{"-g", "10.231.2.1", "-a", "auto", "--ifname=eth1", "-a", "fd00:231:2::42/64", "--host-ifname", "{h}", "--bridge={br}", "{t}"}, br: brDual, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, prep: []prepFunc{loUp}, path: fastPath},
		{args: []string{"-b", "{br}", "-i", "eth1", "{t}"}, prep: []prepFunc{containerLink("eth0")}, path: fastPath},
		// Bridges with more than one address, or addresses auto must not
		// take (scope link), a peer address.
		{args: []string{"-b", "{br}", "{t}"}, br: brForeign, prep: []prepFunc{brAddr("10.231.6.1/24")}, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "10.231.6.9", "{t}"}, br: brForeign, prep: []prepFunc{brAddr("10.231.6.1/24")}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, br: brNoAddr, prep: []prepFunc{brAddr("10.231.6.1/24", "scope", "link"), brAddr("10.231.7.1/24")}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, br: brNoAddr, prep: []prepFunc{brAddr("10.231.6.1", "peer", "10.231.7.1/24")}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, br: brNoAddr, prep: []prepFunc{brAddr("fe80::1/64"), brAddr("fd00:231:6::1/64", "nodad")}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, br: brNoAddr, prep: []prepFunc{brAddr("fd00:231:6::1/64")}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, br: brNoAddr, prep: []prepFunc{brAddr("10.231.6.1/24", "scope", "link")}, path: anyPath, code: 1},
		{args: []string{"-b", "{br}", "{t}"}, prep: []prepFunc{brMTU("1400")}, path: fastPath},
		// More addresses and prefixes.
		{args: []string{"-b", "{br}", "-a", "10.231.2.99", "-a", "auto", "{t}"}, br: brDual, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "10.231.1.77/31", "{t}"}, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "fd00:231:2::99/48", "{t}"}, br: brDual, path: fastPath},
		{args: []string{"-b", "{br}", "-a", "10.231.1.100", "-a", "10.231.1.101", "-a", "10.231.1.102", "-a", "10.231.1.103", "-a", "10.231.1.104", "-a", "10.231.1.105", "-a", "10.231.1.106", "-a", "10.231.1.107", "-a", "10.231.1.108", "-a", "10.231.1.109", "-a", "10.231.1.110", "-a", "10.231.1.111", "-a", "10.231.1.112", "-a", "10.231.1.113", "-a", "10.231.1.114", "-a", "10.231.1.115", "{t}"}, path: fastPath},
		// More than the fast path's tables hold (16): it may leave them
		// to Go.
		{args: []string{"-b", "{br}", "-a", "10.231.1.100", "-a", "10.231.1.101", "-a", "10.231.1.102", "-a", "10.231.1.103", "-a", "10.231.1.104", "-a", "10.231.1.105", "-a", "10.231.1.106", "-a", "10.231.1.107", "-a", "10.231.1.108", "-a", "10.231.1.109", "-a", "10.231.1.110", "-a", "10.231.1.111", "-a", "10.231.1.112", "-a", "10.231.1.113", "-a", "10.231.1.114", "-a", "10.231.1.115", "-a", "10.231.1.116", "-a", "10.231.1.117", "-a", "10.231.1.118", "-a", "10.231.1.119", "{t}"}, path: anyPath},
		{args: []string{"-b", "{br}", "-a", "10.231.116.9", "{t}"}, br: brForeign, prep: []prepFunc{brAddrs(17)}, path: anyPath},
		{args: []string{"-b", "{br}", "{t}"}, br: brDual, prep: []prepFunc{setAlias("nsbox-mkbridge bridge last6=fd00:231:2::7 last=10.231.2.9")}, path: fastPath},
		{args: []string{"-b", "{br}", "-i", "eth0", "{t}"}, path: fastPath},
		// Targets spelt otherwise.
		{args: []string{"-b", "{br}", "/proc/{pid}/ns/net"}, path: fastPath},
		{args: []string{"-b", "{br}", "/proc/{pid}/task/{pid}/ns/net"}, path: fastPath},
		{args: []string{"-b", "{br}", "0{pid}"}, path: anyPath, code: -1},
		{args: []string{"-b", "{br}", "{d}//net"}, target: tFile, path: fastPath},
		{args: []string{"-b", "{br}", "{d}/link"}, target: tFile, prep: []prepFunc{pinLink}, path: fastPath},
		{args: []string{"-b", "{br}", "{t}"}, prep: []prepFunc{altName("eth0")}, path: anyPath, code: -1},
		// 4. --new.
		{args: []string{"-b", "{br}", "--new", "{t}"}, target: tNew, path: fastPath},
		{args: []string{"--new", "-b", "{br}", "-a", "10.231.1.60", "{t}"}, target: tNew, path: fastPath},
		{args: []string{"--new", "--bridge={br}", "{t}"}, br: brDual, target: tNew, path: fastPath},
		// 5. Failures after the first change: the fast path's own
		// message, and everything rolled back.
		{args: []string{"-b", "{br}", "{t}"}, prep: []prepFunc{defaultRoute(true, false)}, path: fastPath, code: 1},
		{args: []string{"-b", "{br}", "{t}"}, prep: []prepFunc{loUp, defaultRoute(true, false)}, path: fastPath, code: 1},
		{args: []string{"-b", "{br}", "{t}"}, target: tNetns, prep: []prepFunc{defaultRoute(true, false)}, path: fastPath, code: 1},
		{args: []string{"-b", "{br}", "{t}"}, br: brDual, prep: []prepFunc{defaultRoute(false, true)}, path: fastPath, code: 1},
		{args: []string{"-b", "{br}", "-g", "10.231.99.1", "{t}"}, path: fastPath, code: 1},
		{args: []string{"-b", "{br}", "-g", "10.231.2.1", "-g", "fd00:231:99::1", "{t}"}, br: brDual, path: fastPath, code: 1},
		{args: []string{"-b", "{br}", "-a", "10.231.1.77/30", "-g", "10.231.1.1", "{t}"}, path: fastPath, code: 1},
		{args: []string{"--new", "-b", "{br}", "-g", "10.231.99.1", "{t}"}, target: tNew, path: fastPath, code: 1},
		{args: []string{"--new", "-b", "{br}", "-i", "lo", "{t}"}, target: tNew, path: anyPath, code: 1},
		{args: []string{"-b", "{br}", "{t}"}, br: brSmall, prep: []prepFunc{occupy("10.231.4.2")}, path: anyPath, code: 1},
		{args: []string{"-b", "{br}", "--new", "{t}"}, br: brSmall, target: tNew, prep: []prepFunc{occupy("10.231.4.2")}, path: anyPath, code: 1},
		{args: []string{"-b", "{br}", "--new", "--host-ifname", "{h}", "{t}"}, target: tNew, prep: []prepFunc{hostLink(w.host)}, path: anyPath, code: 1},
		{args: []string{"-b", "{br}", "--new", "-a", "10.231.1.3", "{t}"}, target: tNew, prep: []prepFunc{occupy("10.231.1.3")}, path: anyPath, code: 1},
	}
	for _, c := range cases {
		w.compareRuns(t, c)
	}
}

// TestFastMkbridgeFallback: forms the fast path must leave to the Go
// applet (it starts the Go runtime, and both runs give the same).
func TestFastMkbridgeFallback(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, natErr := exec.LookPath("nft")
	cases := []mkCase{
		// The bridge missing, down, not a bridge.
		{args: []string{"-b", "{br}", "--bridge-addr", "10.231.5.1/24", "{t}"}, br: brNone},
		{args: []string{"-b", "{br}", "--bridge-addr", "10.231.5.1/24", "--bridge-addr", "fd00:231:5::1/64", "{t}"}, br: brNone, target: tNetns},
		{args: []string{"-b", "{br}", "--new", "--bridge-addr", "10.231.5.1/24", "{t}"}, br: brNone, target: tNew},
		{args: []string{"-b", "{br}", "{t}"}, br: brDown},
		{args: []string{"-b", "{br}", "{t}"}, br: brVeth, code: 1},
		// Options it does not take.
		{args: []string{"-v", "-b", "{br}", "{t}"}},
		{args: []string{"--verbose", "-b", "{br}", "--new", "{t}"}, target: tNew},
		{args: []string{"-b", "{br}", "--mtu", "1400", "{t}"}},
		{args: []string{"-b", "{br}", "--mtu=1400", "{t}"}},
		{args: []string{"-b", "{br}", "--mac", "02:00:00:00:23:01", "{t}"}},
		{args: []string{"-b", "{br}", "--check", "{t}"}, code: 1},
		{args: []string{"-h"}, target: tNone},
		{args: []string{"--help", "-b", "{br}", "{t}"}},
		{args: []string{"-b", "{br}", "-d", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "--delete-bridge"}, target: tNone},
		// Spellings it does not take.
		{args: []string{"-b", "{br}", "{t}", "-a", "10.231.1.9"}, code: 1},
		{args: []string{"{t}", "-b", "{br}"}, code: 1},
		{args: []string{"-b", "{br}", "--", "{t}"}},
		{args: []string{"--brid", "{br}", "{t}"}, code: 1},
		{args: []string{"--brid={br}", "{t}"}, code: 1},
		{args: []string{"--bridge-", "10.231.1.1/24", "-b", "{br}", "{t}"}},
		{args: []string{"-b", "{br}", "--add", "10.231.1.9", "{t}"}},
		{args: []string{"-b", "{br}", "--gate=none", "{t}"}},
		{args: []string{"-b", "{br}", "--ne", "{t}"}, target: tNew},
		{args: []string{"-b", "{br}", "-b", "{br}", "{t}"}},
		{args: []string{"-b", "nsbtnothere", "-b", "{br}", "{t}"}},
		{args: []string{"-b", "{br}", "-i", "eth1", "-i", "eth0", "{t}"}},
		{args: []string{"-b", "{br}", "--host-ifname", "{h}", "--host-ifname", "{h}", "{t}"}},
		{args: []string{"-b", "{br}", "--new", "--new", "{t}"}, target: tNew},
		{args: []string{"-b", "{br}", "-a"}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", "-x", "{t}"}, code: 1},
		{args: []string{"-b", "{br}"}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", "{t}", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-ab", "{t}"}, code: 1},
		// Invalid input.
		{args: []string{"-b", "", "{t}"}, code: 1},
		{args: []string{"-b", "nsbtaaaaaaaaaaaaaa", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-i", "", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-i", "a/b", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-i", "eth0123456789abcd", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "--host-ifname", "{br}", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "--host-ifname", "a:b", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "10.231.1.300", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "10.231.1.3/33", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "10.231.1.0/24", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "10.231.1.255", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "10.231.1.0", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "10.231.9.5", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "fd00:231:9::5", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "fd00:231:2::99/128", "{t}"}, br: brDual, code: 1},
		{args: []string{"-b", "{br}", "-a", "::ffff:10.231.1.5", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "fe80::1%eth0", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "127.0.0.2/8", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "224.0.0.5/4", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "10.231.1.5", "-a", "10.231.1.5", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "AUTO", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "{t}"}, br: brNoAddr, code: 1},
		{args: []string{"-b", "{br}", "-a", "10.231.3.50", "{t}"}, br: brNoAddr, code: 1},
		{args: []string{"-b", "{br}", "-g", "10.1", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-g", "", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-g", "None", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-g", "none", "-g", "10.231.1.1", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-g", "fe80::1%eth0", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "--bridge-addr", "10.231.1.1", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "--bridge-addr", "10.231.1.255/24", "{t}"}, code: 1},
		// Targets that are not there or not right.
		{args: []string{"-b", "{br}", "99999999"}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", "0"}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", "{gone}"}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", plain}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", "/proc/{pid}/ns/uts"}, code: 1},
		{args: []string{"-b", "{br}", "nsbt-no-such-netns"}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", "/proc/self/ns/net"}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", "/proc/1/ns/net"}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", ""}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", "{d}/nothing"}, target: tNone, code: 1},
		// Taken: an address, a name.
		{args: []string{"-b", "{br}", "-a", "10.231.1.1", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "-a", "10.231.1.3", "{t}"}, prep: []prepFunc{occupy("10.231.1.3")}, code: 1},
		{args: []string{"-b", "{br}", "-a", "fd00:231:2::3", "{t}"}, br: brDual, prep: []prepFunc{occupy("fd00:231:2::3")}, code: 1},
		{args: []string{"-b", "{br}", "{t}"}, prep: []prepFunc{containerLink("eth0")}, code: 1},
		{args: []string{"-b", "{br}", "-i", "lo", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "--host-ifname", "{h}", "{t}"}, prep: []prepFunc{hostLink(w.host)}, code: 1},
		{args: []string{"-b", "{br}", "--host-ifname", "lo", "{t}"}, code: 1},
		{args: []string{"-b", "{br}", "--new", "{t}"}, target: tNew, prep: []prepFunc{netnsAdd}, code: 1},
		{args: []string{"-b", "{br}", "--new", "123"}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", "--new", "a/b"}, target: tNone, code: 1},
		{args: []string{"-b", "{br}", "--new", ".."}, target: tNone, code: 1},
	}
	if natErr == nil {
		restoreSysctl(t, "net/ipv4/ip_forward")
		restoreSysctl(t, "net/ipv6/conf/all/forwarding")
		cases = append(cases, mkCase{args: []string{"--nat", "-b", "{br}", "{t}"}})
	} else {
		t.Log("no nft: --nat not tried")
	}
	for _, c := range cases {
		c.path = goPath
		w.compareRuns(t, c)
	}
}

// TestFastMkbridgeUnprivileged: a caller that is not root is refused at
// the first change, by the Go applet, both ways.
func TestFastMkbridgeUnprivileged(t *testing.T) {
	w := newWorld(t)
	w.u = testutil.Unprivileged(t)
	cases := []mkCase{
		{args: []string{"-b", "{br}", "{t}"}, target: tNetns, user: true, code: 1},
		{args: []string{"-b", "{br}", "-a", "10.231.1.9", "{t}"}, target: tNetns, user: true, code: 1},
		{args: []string{"-b", "{br}", "{t}"}, user: true, code: 1},
		{args: []string{"-b", "{br}", "--new", "{t}"}, target: tNew, user: true, code: 1},
	}
	for _, c := range cases {
		c.path = goPath
		w.compareRuns(t, c)
	}
	// The test user's own container (a user namespace of its own): the
	// namespace opens, the veth cannot be made on the host.
	p := testutil.Start(t, testutil.Opts{User: w.u}, w.bin, "unshare", "-rn", "sleep", "600").WaitExec(t, "sleep", 10*time.Second)
	c := mkCase{args: []string{"-b", "{br}", strconv.Itoa(p.Pid())}, target: tNone, user: true, code: 1}
	w.compareRuns(t, c)
}

// TestFastMkbridgeAuto: on one bridge with IPv4 and IPv6 addresses, runs
// by the fast path and by the Go applet in turn each take the next free
// address of each family after the bridge's hint, and move the hint on.
func TestFastMkbridgeAuto(t *testing.T) {
	w := newWorld(t)
	bin, br := w.bin, w.br
	makeBridge(t, bin, br, brDual)
	t.Cleanup(func() { removeBridge(t, bin, br) })
	var procs []*testutil.Proc
	t.Cleanup(func() {
		for _, p := range procs {
			goRun(t, bin, "mkbridge", "-d", pidOf(p))
		}
	})
	// Taken out of order: the scan must skip them.
	x := container(t, bin)
	procs = append(procs, x)
	testutil.Must(t, goRun(t, bin, "mkbridge", "-b", br, "-a", "10.231.2.4", "-a", "fd00:231:2::5", "-a", "10.231.2.6", pidOf(x)), 0)
	// Now in use in IPv4: .1 (bridge) .4 .6; IPv6 ::1 ::5, hints .2 and ::2
	// (the scratch run's, its addresses free again).
	sub4 := netip.MustParsePrefix("10.231.2.0/24")
	sub6 := netip.MustParsePrefix("fd00:231:2::/64")
	for i := 0; i < 8; i++ {
		goApplet := i%2 == 1
		how := "fast path"
		if goApplet {
			how = "Go applet"
		}
		if i == 6 {
			// Near the end of the subnet: wrap round.
			mustRun(t, "ip", "link", "set", br, "alias", "nsbox-mkbridge bridge last=10.231.2.254 last6=fd00:231:2::ffff:ffff:ffff:ffff")
		}
		last4, last6 := hints(t, br)
		want4 := nextFree(br, sub4, last4, netip.MustParseAddr("10.231.2.1"))
		want6 := nextFree(br, sub6, last6, netip.MustParseAddr("fd00:231:2::1"))
		p := container(t, bin)
		procs = append(procs, p)
		r, started := testutil.RunPath(t, testutil.Opts{}, goApplet, bin, "mkbridge", "-b", br, pidOf(p))
		if goApplet {
			if !started {
				t.Errorf("run %d (%s): the Go runtime did not start", i, how)
			}
		} else if started != fastMkbridgeFlipped {
			t.Errorf("run %d (%s): the Go runtime started: %v", i, how, started)
		}
		host, addrs := parseOut(t, r)
		if want := fmt.Sprintf("nsb%x", testutil.NsInode(t, p.Pid(), "net")); host != want {
			t.Errorf("run %d (%s): host end %s, want %s", i, how, host, want)
		}
		want := []netip.Prefix{netip.PrefixFrom(want4, 24), netip.PrefixFrom(want6, 64)}
		if len(addrs) != 2 || addrs[0] != want[0] || addrs[1] != want[1] {
			t.Errorf("run %d (%s): hints %v %v: got %v, want %v", i, how, last4, last6, addrs, want)
		}
		got4, got6 := hints(t, br)
		if got4 != addrs[0].Addr() || got6 != addrs[len(addrs)-1].Addr() {
			t.Errorf("run %d (%s): the bridge's hints after it: %v %v, want %v", i, how, got4, got6, addrs)
		}
	}
}

// TestFastMkbridgeConcurrent: fast and Go runs at once on one bridge
// never give an address twice.
func TestFastMkbridgeConcurrent(t *testing.T) {
	w := newWorld(t)
	bin, br := w.bin, w.br
	makeBridge(t, bin, br, brDual)
	t.Cleanup(func() { removeBridge(t, bin, br) })
	const n = 16
	cs := make([]*testutil.Proc, n)
	for i := range cs {
		cs[i] = container(t, bin)
	}
	t.Cleanup(func() {
		for _, c := range cs {
			goRun(t, bin, "mkbridge", "-d", pidOf(c))
		}
	})
	results := make([]testutil.Result, n)
	done := make(chan struct{})
	for i := range cs {
		go func() {
			defer func() { done <- struct{}{} }()
			results[i], _ = testutil.RunPath(t, testutil.Opts{}, i%2 == 1, bin, "mkbridge", "-b", br, pidOf(cs[i]))
		}()
	}
	for range cs {
		<-done
	}
	seen := map[netip.Addr]int{}
	for i, r := range results {
		_, addrs := parseOut(t, r)
		if len(addrs) != 2 {
			t.Errorf("run %d: %v", i, addrs)
		}
		for _, a := range addrs {
			if j, dup := seen[a.Addr()]; dup {
				t.Errorf("runs %d and %d (fast: even) both got %s", j, i, a.Addr())
			}
			seen[a.Addr()] = i
		}
	}
}

// hints reads the bridge's allocation hints from its alias.
func hints(t *testing.T, br string) (last4, last6 netip.Addr) {
	t.Helper()
	l, err := netlink.LinkByName(br)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(l.Attrs().Alias) {
		if v, ok := strings.CutPrefix(f, "last="); ok {
			last4, _ = netip.ParseAddr(v)
		} else if v, ok := strings.CutPrefix(f, "last6="); ok {
			last6, _ = netip.ParseAddr(v)
		}
	}
	return last4, last6
}

// nextFree is the address auto must give on br in sub after hint: the
// first host address after it (wrapping round) that is not the bridge's
// and not recorded (an altname nsbox-mkbridge.BR.ADDR exists), for a /24
// or a /64.
func nextFree(br string, sub netip.Prefix, hint, bridgeAddr netip.Addr) netip.Addr {
	first := sub.Addr().Next()
	a := first
	if hint.IsValid() && sub.Contains(hint) && sub.Contains(hint.Next()) {
		a = hint.Next()
	}
	for i := 0; i < 1<<16; i++ {
		host := a != sub.Addr()
		if a.Is4() {
			b := a.As4()
			host = host && b[3] != 255 // a /24
		}
		if host && a != bridgeAddr {
			rec := netsetup.RecordPrefix + br + "."
			if a.Is4() {
				rec += a.String()
			} else {
				b := a.As16()
				rec += fmt.Sprintf("%x", b[:])
			}
			if _, err := netlink.LinkByName(rec); err != nil {
				return a
			}
		}
		a = a.Next()
		if !sub.Contains(a) {
			a = first
		}
	}
	return netip.Addr{}
}
