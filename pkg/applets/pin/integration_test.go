package pin_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/nsexec"
	"github.com/nsbox/nsbox/pkg/pin"
)

// These tests run the built binary as root and as the unprivileged test
// user against processes they start themselves (never PID 1), and check
// after each that no mount, pin, /run/netns entry or process is left.

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// setup is the start of every test that runs the binary: root, /run/netns
// as iproute2 makes it (made once, as "ip netns add" would, so that it is
// not counted as a leak), the leak check, a scratch directory.
func setup(t *testing.T, extraDirs ...string) (bin, tmp string) {
	t.Helper()
	testutil.RequireRoot(t)
	if err := pin.PrepareNetnsDir(); err != nil {
		t.Fatalf("PrepareNetnsDir: %v", err)
	}
	testutil.CheckNoLeaks(t, append([]string{"/run/netns"}, extraDirs...)...)
	bin = testutil.Binary(t)
	tmp = t.TempDir()
	return bin, tmp
}

// target starts argv (whose last step execs sleep) and returns its PID once
// it is sleeping, so its namespaces exist.
func target(t *testing.T, o testutil.Opts, argv ...string) *testutil.Proc {
	t.Helper()
	return testutil.Start(t, o, argv...).WaitExec(t, "sleep", 10*time.Second)
}

// kill ends a target and waits for it.
func kill(t *testing.T, p *testutil.Proc) {
	t.Helper()
	p.Signal(unix.SIGKILL)
	p.Wait()
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func isPin(path string) bool {
	ok, _ := pin.IsPin(path)
	return ok
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// mountOf returns the mountinfo line whose mount point is path, or "".
func mountOf(t *testing.T, path string) string {
	t.Helper()
	var last string
	for _, l := range strings.Split(testutil.ReadFile(t, "/proc/self/mountinfo"), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == path {
			last = l
		}
	}
	return last
}

// privateDir makes dir a private mount point (the util-linux man-page
// recipe, made by the test, not by pin), undone at cleanup.
func privateDir(t *testing.T, dir string) {
	t.Helper()
	testutil.Must(t, testutil.Run(t, "mount", "--bind", dir, dir), 0)
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	testutil.Must(t, testutil.Run(t, "mount", "--make-private", dir), 0)
}

// the namespace options, and the file each pins.
var typeOpts = []struct{ opt, file string }{
	{"--mount", "mnt"}, {"--uts", "uts"}, {"--ipc", "ipc"}, {"--net", "net"},
	{"--pid", "pid"}, {"--user", "user"}, {"--cgroup", "cgroup"}, {"--time", "time"},
}

// TestPinEachType pins each type onto a file, with the long option and the
// attached short one (-nFILE), checks the inode, that util-linux nsenter
// enters it, and releases it.
func TestPinEachType(t *testing.T) {
	bin, tmp := setup(t)
	nsenter := testutil.HaveUtilLinux(t, "nsenter")
	// The mount pin needs a non-shared parent mount.
	privateDir(t, tmp)
	p := target(t, testutil.Opts{}, "unshare", "-n", "-u", "-i", "-m", "-C", "--propagation", "private", "sleep", "60")
	short := map[string]string{"mnt": "m", "uts": "u", "ipc": "i", "net": "n", "pid": "p", "user": "U", "cgroup": "C", "time": "T"}
	for _, o := range typeOpts {
		for _, form := range []string{"long", "short"} {
			f := filepath.Join(tmp, o.file+"-"+form)
			arg := o.opt + "=" + f
			if form == "short" {
				arg = "-" + short[o.file] + f
			}
			r := testutil.Run(t, bin, "pin", "-t", strconv.Itoa(p.Pid()), arg)
			testutil.Must(t, r, 0)
			if r.Stdout != "" || r.Stderr != "" {
				t.Errorf("pin %s: output %s", arg, r)
			}
			if got, want := inode(t, f), testutil.NsInode(t, p.Pid(), o.file); got != want {
				t.Errorf("pin %s: inode %d, /proc/%d/ns/%s is %d", arg, got, p.Pid(), o.file, want)
			}
			if o.file != "user" { // setns into one's own user namespace is EINVAL
				testutil.Must(t, testutil.Run(t, nsenter, o.opt+"="+f, "true"), 0)
			}
			testutil.Must(t, testutil.Run(t, bin, "pin", "-d", f), 0)
			if exists(f) {
				t.Errorf("pin -d %s left the file", f)
			}
		}
	}
	// Files outlive the process: util-linux nsenter enters them.
	net, mnt := filepath.Join(tmp, "net"), filepath.Join(tmp, "mnt")
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", strconv.Itoa(p.Pid()), "--net="+net, "--mount="+mnt), 0)
	want := fmt.Sprintf("net:[%d]\nmnt:[%d]\n", testutil.NsInode(t, p.Pid(), "net"), testutil.NsInode(t, p.Pid(), "mnt"))
	kill(t, p)
	r := testutil.Run(t, nsenter, "--net="+net, "--mount="+mnt, "readlink", "/proc/self/ns/net", "/proc/self/ns/mnt")
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("nsenter into the pins of a dead process: %s\nwant %q", r, want)
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", net, mnt), 0)
}

// TestPinForChildren: util-linux "unshare -p -T -f" unshares pid and time
// in itself, then forks: the unshare process stays in the old ones, its
// child lives in the new ones. --for-children pins, from the parent, the
// namespaces its children get. Before any child exists the kernel shows no
// pid_for_children, and pin says why.
func TestPinForChildren(t *testing.T) {
	bin, tmp := setup(t)
	p := testutil.Start(t, testutil.Opts{}, "unshare", "-p", "-T", "-f", "sleep", "60")
	child := waitChild(t, p)
	pid := strconv.Itoa(p.Pid())
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pid, "--for-children", "--pid="+tmp+"/pid", "--time="+tmp+"/time"), 0)
	for _, n := range []string{"pid", "time"} {
		got, want, own := inode(t, tmp+"/"+n), testutil.NsInode(t, child, n), testutil.NsInode(t, p.Pid(), n)
		if got != want || got == own {
			t.Errorf("%s pin: inode %d; the child's %d, unshare's own %d", n, got, want, own)
		}
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", tmp+"/pid", tmp+"/time"), 0)
	// Without --for-children: the process's own, into a handle.
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pid, "-p", "-T", tmp+"/h"), 0)
	if inode(t, tmp+"/h/pid") != testutil.NsInode(t, p.Pid(), "pid") || inode(t, tmp+"/h/time") != testutil.NsInode(t, p.Pid(), "time") {
		t.Errorf("pid/time pins without --for-children are not the process's own")
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", tmp+"/h"), 0)
	if exists(tmp + "/h") {
		t.Errorf("pin -d left the directory pin created")
	}
	// A handle with every type and --for-children.
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pid, "--for-children", "-a", tmp+"/h"), 0)
	if inode(t, tmp+"/h/pid") != testutil.NsInode(t, child, "pid") || inode(t, tmp+"/h/net") != testutil.NsInode(t, p.Pid(), "net") {
		t.Errorf("-a --for-children: wrong pid or net pin")
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", tmp+"/h"), 0)

	// unshare -p without -f: no process in the new pid namespace yet.
	q := target(t, testutil.Opts{}, "unshare", "-p", "sleep", "60")
	qp := strconv.Itoa(q.Pid())
	testutil.Fails(t, testutil.Run(t, bin, "pin", "-t", qp, "--for-children", "--pid="+tmp+"/pid"),
		"pin: cannot open /proc/"+qp+"/ns/pid_for_children: No such file or directory (the pid namespace its children get has no process yet)\n")
	if exists(tmp + "/pid") {
		t.Errorf("failed pin left its file")
	}
}

// waitChild waits until p has a child and returns its PID.
func waitChild(t *testing.T, p *testutil.Proc) int {
	t.Helper()
	path := fmt.Sprintf("/proc/%d/task/%d/children", p.Pid(), p.Pid())
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if f := strings.Fields(testutil.ReadFile(t, path)); len(f) > 0 {
			c, _ := strconv.Atoi(f[0])
			if testutil.ExecComm(c) == "sleep" {
				return c
			}
		}
	}
	t.Fatalf("%d: no child", p.Pid())
	return 0
}

// TestPinDirAll: a directory handle with every type; the mount namespace pin
// makes pin prepare the directory; nsenter enters all of them in one call;
// pin -d undoes all of it.
func TestPinDirAll(t *testing.T) {
	bin, tmp := setup(t)
	nsenter := testutil.HaveUtilLinux(t, "nsenter")
	inside := filepath.Join(tmp, "inside")
	os.Mkdir(inside, 0o755)
	p := target(t, testutil.Opts{}, "unshare", "-n", "-u", "-i", "-m", "-C", "--propagation", "private", "sh", "-c",
		"hostname pinned && mount -t tmpfs none "+inside+" && touch "+inside+"/seen && exec sleep 60")
	h := filepath.Join(tmp, "h")
	r := testutil.Run(t, bin, "pin", "-t", strconv.Itoa(p.Pid()), h)
	testutil.Must(t, r, 0)
	if want := "pin: made " + h + " a private mount point for the mount-namespace pin\n"; r.Stdout != want || r.Stderr != "" {
		t.Errorf("stdout %q, want %q; stderr %q", r.Stdout, want, r.Stderr)
	}
	for _, n := range pin.Names() {
		if !isPin(filepath.Join(h, n)) {
			t.Errorf("%s/%s is not a pin", h, n)
		} else if inode(t, filepath.Join(h, n)) != testutil.NsInode(t, p.Pid(), n) {
			t.Errorf("%s/%s: not the target's", h, n)
		}
	}
	if m := mountOf(t, h); m == "" || strings.Contains(m, "shared:") {
		t.Errorf("%s: not a private mount point: %q", h, m)
	}
	marker := testutil.ReadFile(t, filepath.Join(h, pin.MarkerName))
	if !regexp.MustCompile(`(?m)^created$`).MatchString(marker) || !regexp.MustCompile(`(?m)^bind (unique|id) \d+ \d+ \d+$`).MatchString(marker) {
		t.Errorf("marker:\n%s", marker)
	}

	// The namespaces outlive the process.
	kill(t, p)
	r = testutil.Run(t, nsenter, "--net="+h+"/net", "--uts="+h+"/uts", "--ipc="+h+"/ipc", "--mount="+h+"/mnt",
		"--cgroup="+h+"/cgroup", "--pid="+h+"/pid", "--time="+h+"/time", "sh", "-c", "hostname; ls "+inside+"; ip -o link | wc -l")
	testutil.Must(t, r, 0)
	if r.Stdout != "pinned\nseen\n1\n" {
		t.Errorf("inside the pinned namespaces: %q", r.Stdout)
	}
	if entries, _ := os.ReadDir(inside); len(entries) != 0 {
		t.Errorf("the host sees the container's tmpfs")
	}
	// nsbox nsenter --dir enters the whole handle in one call.
	if strings.Contains(testutil.Run(t, bin, "--list").Stdout, "nsenter\n") {
		r = testutil.Run(t, bin, "nsenter", "--dir", h, "sh", "-c", "hostname; ls "+inside)
		if r.Code != 0 || r.Stdout != "pinned\nseen\n" {
			t.Errorf("nsbox nsenter --dir %s: %s", h, r)
		}
	}

	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", h), 0)
	if exists(h) {
		t.Errorf("pin -d left %s", h)
	}
	if m := mountOf(t, h); m != "" {
		t.Errorf("pin -d left the self-bind: %s", m)
	}
}

// TestPinDirExisting: into an existing private mount point, pin leaves the
// propagation alone (no message), and pin -d keeps the directory and that
// mount, which pin did not make. With a target in pin's own mount
// namespace, "every namespace" leaves mnt out and says so.
func TestPinDirExisting(t *testing.T) {
	bin, tmp := setup(t)
	h := filepath.Join(tmp, "h")
	os.Mkdir(h, 0o755)
	privateDir(t, h)
	before := mountOf(t, h)
	p := target(t, testutil.Opts{}, "unshare", "-m", "-n", "--propagation", "private", "sleep", "60")
	r := testutil.Run(t, bin, "pin", "-t", strconv.Itoa(p.Pid()), "-a", h)
	testutil.Must(t, r, 0)
	if r.Stdout != "" {
		t.Errorf("pin into a private mount point: stdout %q", r.Stdout)
	}
	if !isPin(h + "/mnt") {
		t.Errorf("no mnt pin")
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", h), 0)
	if !exists(h) || mountOf(t, h) != before {
		t.Errorf("pin -d removed what it did not make: dir %v, mount %q (was %q)", exists(h), mountOf(t, h), before)
	}
	if e, _ := os.ReadDir(h); len(e) != 0 {
		t.Errorf("left in %s: %v", h, e)
	}

	// A target in our own mount namespace.
	q := target(t, testutil.Opts{}, "unshare", "-n", "sleep", "60")
	r = testutil.Run(t, bin, "pin", "-t", strconv.Itoa(q.Pid()), h)
	testutil.Must(t, r, 0)
	if want := fmt.Sprintf("pin: not pinning mnt: PID %d is in pin's own mount namespace, which cannot pin itself\n", q.Pid()); r.Stdout != want {
		t.Errorf("stdout %q, want %q", r.Stdout, want)
	}
	if exists(h+"/mnt") || !isPin(h+"/net") {
		t.Errorf("mnt pinned or net not")
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", h), 0)
	// Named explicitly, it is an error.
	testutil.Fails(t, testutil.Run(t, bin, "pin", "-t", strconv.Itoa(q.Pid()), "-m", h),
		fmt.Sprintf("pin: cannot pin the mount namespace of PID %d: it is pin's own mount namespace (a mount namespace cannot pin itself)\n", q.Pid()))
}

// TestPinMountRules: the kernel's two EINVAL rules for mount-namespace pins.
func TestPinMountRules(t *testing.T) {
	bin, tmp := setup(t)
	// A directory on a shared mount, and a target made after it, so that
	// the target's copy of that mount is a peer: binding a mount-namespace
	// file there would propagate, which the kernel refuses.
	sh := filepath.Join(tmp, "shared")
	os.Mkdir(sh, 0o755)
	testutil.Must(t, testutil.Run(t, "mount", "--bind", sh, sh), 0)
	t.Cleanup(func() { unix.Unmount(sh, unix.MNT_DETACH) })
	testutil.Must(t, testutil.Run(t, "mount", "--make-shared", sh), 0)
	p := target(t, testutil.Opts{}, "unshare", "-m", "--propagation", "unchanged", "sleep", "60")
	pid := strconv.Itoa(p.Pid())
	testutil.Fails(t, testutil.Run(t, bin, "pin", "-t", pid, "--mount="+sh+"/mnt"),
		"pin: mount /proc/"+pid+"/ns/mnt on "+sh+"/mnt failed: Invalid argument (the mount holding the file is shared: a mount-namespace pin needs a private one; pin into a DIR, which pin makes private)\n")
	if exists(sh + "/mnt") {
		t.Errorf("failed pin left its file")
	}
	// Into the shared mount point as a DIR: pin stacks its own private
	// bind on it, and removes only that.
	before := mountOf(t, sh)
	r := testutil.Run(t, bin, "pin", "-t", pid, "-m", sh)
	testutil.Must(t, r, 0)
	if r.Stdout != "pin: made "+sh+" a private mount point for the mount-namespace pin\n" {
		t.Errorf("stdout %q", r.Stdout)
	}
	testutil.Must(t, testutil.Run(t, testutil.HaveUtilLinux(t, "nsenter"), "--mount="+sh+"/mnt", "true"), 0)
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", sh), 0)
	if got := mountOf(t, sh); got != before {
		t.Errorf("after pin -d: %q, want the test's own shared mount %q", got, before)
	}
	kill(t, p) // its copy of the shared mount goes with it

	// Rule 1: a mount namespace can only pin one with a larger namespace
	// ID. IDs come from per-CPU batches on recent kernels, so creation
	// order decides only on one CPU: the target and pin's own mount
	// namespace (made after it) are made on CPU 0.
	taskset := testutil.HaveUtilLinux(t, "taskset")
	q := target(t, testutil.Opts{}, taskset, "-c", "0", "unshare", "-m", "--propagation", "private", "sleep", "60")
	qp := strconv.Itoa(q.Pid())
	priv := filepath.Join(tmp, "priv")
	os.Mkdir(priv, 0o755)
	privateDir(t, priv)
	testutil.Fails(t, testutil.Run(t, taskset, "-c", "0", "unshare", "-m", "--propagation", "private", bin, "pin", "-t", qp, "--mount="+priv+"/mnt"),
		"pin: mount /proc/"+qp+"/ns/mnt on "+priv+"/mnt failed: Invalid argument (only a mount namespace newer than pin's own can be pinned)\n")
	if exists(priv + "/mnt") {
		t.Errorf("failed pin left its file")
	}
}

// TestPinNetns: --netns NAME is what "ip netns add" makes: ip netns exec,
// ip -n and ip netns del work on it, and pin -d --netns removes one.
func TestPinNetns(t *testing.T) {
	bin, _ := setup(t)
	ip := "ip"
	name := fmt.Sprintf("nsboxtest%d", os.Getpid())
	path := "/run/netns/" + name
	p := target(t, testutil.Opts{}, "unshare", "-n", "sleep", "60")
	pid := strconv.Itoa(p.Pid())
	r := testutil.Run(t, bin, "pin", "-t", pid, "--netns", name)
	testutil.Must(t, r, 0)
	if r.Stdout != "" || r.Stderr != "" {
		t.Errorf("output: %s", r)
	}
	if !isPin(path) || inode(t, path) != testutil.NsInode(t, p.Pid(), "net") {
		t.Fatalf("%s is not the target's netns pin", path)
	}
	if !strings.Contains(testutil.Run(t, ip, "netns", "list").Stdout, name) {
		t.Errorf("ip netns list does not show %s", name)
	}
	// ip netns exec runs in a new mount namespace: the pin must be seen there.
	for _, argv := range [][]string{{ip, "netns", "exec", name, "ip", "-o", "link"}, {ip, "-n", name, "-o", "link"}} {
		r = testutil.Run(t, argv...)
		if r.Code != 0 || strings.Count(r.Stdout, "\n") != 1 || !strings.Contains(r.Stdout, "lo:") {
			t.Errorf("%v: %s", argv, r)
		}
	}
	testutil.Fails(t, testutil.Run(t, bin, "pin", "-t", pid, "--netns", name), "pin: "+path+": already a namespace pin\n")
	testutil.Must(t, testutil.Run(t, ip, "netns", "del", name), 0)
	if exists(path) {
		t.Errorf("ip netns del left %s", path)
	}
	// Pinned again, then released by pin; the namespace outlives the process.
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pid, "--netns="+name), 0)
	kill(t, p)
	r = testutil.Run(t, ip, "-n", name, "-o", "link")
	if r.Code != 0 || !strings.Contains(r.Stdout, "lo:") {
		t.Errorf("ip -n %s after the process died: %s", name, r)
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", "--netns", name), 0)
	if exists(path) {
		t.Errorf("pin -d --netns left %s", path)
	}
	testutil.Fails(t, testutil.Run(t, bin, "pin", "-d", "--netns", name), "pin: cannot open "+path+": No such file or directory\n")
}

// TestPinNetnsAndDir: one call makes a handle and a named netns; a netns
// name in use makes the whole call fail and undo the handle.
func TestPinNetnsAndDir(t *testing.T) {
	bin, tmp := setup(t)
	name := fmt.Sprintf("nsboxtest%d", os.Getpid())
	p := target(t, testutil.Opts{}, "unshare", "-n", "-u", "sleep", "60")
	pid := strconv.Itoa(p.Pid())
	h := tmp + "/h"
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pid, "-n", "-u", "--netns", name, h), 0)
	if !isPin(h+"/net") || !isPin(h+"/uts") || !isPin("/run/netns/"+name) {
		t.Errorf("not every pin made")
	}
	testutil.Fails(t, testutil.Run(t, bin, "pin", "-t", pid, "-a", "--netns", name, tmp+"/h2"), "pin: /run/netns/"+name+": already a namespace pin\n")
	if exists(tmp + "/h2") {
		t.Errorf("the failed call left its directory")
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", "--netns", name, h), 0)
	if exists(h) || exists("/run/netns/"+name) {
		t.Errorf("pin -d left pins")
	}
}

// TestPinBadInput: exact messages, exit 1, nothing made or unmounted.
func TestPinBadInput(t *testing.T) {
	bin, tmp := setup(t)
	p := target(t, testutil.Opts{}, "unshare", "-n", "sleep", "60")
	pid := strconv.Itoa(p.Pid())
	// A vanished PID: a process that has been waited for.
	gone := testutil.Start(t, testutil.Opts{}, "true")
	gone.Wait()
	gonePid := strconv.Itoa(gone.Pid())

	pinned := tmp + "/pinned"
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pid, "--net="+pinned), 0)
	t.Cleanup(func() { pin.Unpin(pinned) })
	regular := tmp + "/regular"
	os.WriteFile(regular, []byte("data\n"), 0o644)
	plain := tmp + "/plain"
	os.Mkdir(plain, 0o755)
	os.WriteFile(plain+"/net", nil, 0o644) // named like a pin, but is not one
	tmpfs := tmp + "/tmpfs"
	os.Mkdir(tmpfs, 0o755)
	testutil.Must(t, testutil.Run(t, "mount", "-t", "tmpfs", "none", tmpfs), 0)
	t.Cleanup(func() { unix.Unmount(tmpfs, unix.MNT_DETACH) })

	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"-t", pid, "--net=" + tmp + "/nodir/f"}, "pin: cannot create " + tmp + "/nodir/f: No such file or directory\n"},
		{[]string{"-t", pid, "-n", tmp + "/nodir/h"}, "pin: cannot create directory " + tmp + "/nodir/h: No such file or directory\n"},
		{[]string{"-t", pid, "--net=" + pinned}, "pin: " + pinned + ": already a namespace pin\n"},
		{[]string{"-t", pid, "--net=" + regular}, "pin: cannot create " + regular + ": File exists\n"},
		{[]string{"-t", pid, "-n", regular}, "pin: cannot open " + regular + ": Not a directory\n"},
		{[]string{"-d", regular}, "pin: " + regular + ": not a namespace pin\n"},
		{[]string{"-d", tmpfs}, "pin: " + tmpfs + ": not a pin directory\n"},
		{[]string{"-d", plain}, "pin: " + plain + ": not a pin directory\n"},
		{[]string{"-d", plain + "/net"}, "pin: " + plain + "/net: not a namespace pin\n"},
		{[]string{"-d", "/proc/self/ns/net"}, "pin: /proc/self/ns/net: not a namespace pin\n"},
		{[]string{"-d", tmp + "/missing"}, "pin: cannot open " + tmp + "/missing: No such file or directory\n"},
		// One bad path refuses them all: the pin stays.
		{[]string{"-d", pinned, regular}, "pin: " + regular + ": not a namespace pin\n"},
		{[]string{"-t", "0", "--net=" + tmp + "/f"}, "pin: failed to parse PID argument '0': Numerical result out of range\n"},
		{[]string{"-t", "abc", "--net=" + tmp + "/f"}, "pin: failed to parse PID argument 'abc': Invalid argument\n"},
		{[]string{"-t", "-1", tmp + "/h"}, "pin: failed to parse PID argument '-1': Numerical result out of range\n"},
		{[]string{"-t", gonePid, "--net=" + tmp + "/f"}, "pin: cannot open /proc/" + gonePid + "/ns/net: No such file or directory\n"},
		{[]string{"-t", gonePid, tmp + "/h"}, "pin: cannot open /proc/" + gonePid + "/ns/user: No such file or directory\n"},
		{[]string{"-t", pid, "--netz=" + tmp + "/f"}, "pin: unrecognized option '--netz=" + tmp + "/f'\nTry 'pin --help' for more information.\n"},
		{[]string{"-t", pid, "-x", tmp + "/h"}, "pin: invalid option -- 'x'\nTry 'pin --help' for more information.\n"},
		{[]string{"-t", pid, "--netns", "a/b"}, "pin: invalid netns name 'a/b'\n"},
		{[]string{"-t", pid, "--netns", ".."}, "pin: invalid netns name '..'\n"},
		{[]string{"-t", pid}, "pin: nothing to pin: give namespace options, a <dir> or --netns <name>\n"},
		{[]string{"-t", pid, "-n"}, "pin: no file or directory for the net namespace: use --net=<file> or give a <dir>\n"},
		{[]string{"-t", pid, "-a"}, "pin: --all needs a <dir>\n"},
		{[]string{"-n", tmp + "/h"}, "pin: no target process specified (-t <pid>)\n"},
		{[]string{"-t", pid, tmp + "/h", tmp + "/h2"}, "pin: too many arguments: only one <dir> is allowed\nTry 'pin --help' for more information.\n"},
		{[]string{"-d"}, "pin: --delete needs a <path> or --netns <name>\n"},
		{[]string{"-d", "-t", pid, pinned}, "pin: --delete takes no --target, --all, --for-children, --hold, --json or namespace options\n"},
	}
	for _, tc := range tests {
		r := testutil.Run(t, append([]string{bin, "pin"}, tc.args...)...)
		if r.Code != 1 || r.Stderr != tc.err || r.Stdout != "" {
			t.Errorf("pin %s:\n got %s\nwant exit 1, stderr %q", strings.Join(tc.args, " "), r, tc.err)
		}
	}
	// Nothing was made, nothing unmounted.
	for _, f := range []string{tmp + "/f", tmp + "/h", tmp + "/h2", tmp + "/nodir"} {
		if exists(f) {
			t.Errorf("%s was made", f)
		}
	}
	if !isPin(pinned) || testutil.ReadFile(t, regular) != "data\n" || mountOf(t, tmpfs) == "" {
		t.Errorf("a refused pin -d changed something")
	}
}

// TestPinRollback: a pin that fails halfway removes what it made.
func TestPinRollback(t *testing.T) {
	bin, tmp := setup(t)
	p := target(t, testutil.Opts{}, "unshare", "-n", "-u", "-i", "-m", "--propagation", "private", "sleep", "60")
	pid := strconv.Itoa(p.Pid())
	// After the directory, its self-bind, the marker and the net and mnt
	// pins: the time pin fails.
	h := tmp + "/h"
	r := testutil.Run(t, bin, "pin", "-t", pid, "-n", "-m", "--time="+tmp+"/nodir/time", h)
	testutil.Fails(t, r, "pin: cannot create "+tmp+"/nodir/time: No such file or directory\n")
	if exists(h) || mountOf(t, h) != "" {
		t.Errorf("rollback left %s (mount %q)", h, mountOf(t, h))
	}
	// In an existing directory whose uts is taken: user, cgroup and ipc
	// are pinned first, then undone; the directory and its file stay as
	// they were.
	os.Mkdir(h, 0o755)
	os.WriteFile(h+"/uts", []byte("mine\n"), 0o644)
	testutil.Fails(t, testutil.Run(t, bin, "pin", "-t", pid, h), "pin: cannot create "+h+"/uts: File exists\n")
	if e, _ := os.ReadDir(h); len(e) != 1 || testutil.ReadFile(t, h+"/uts") != "mine\n" {
		t.Errorf("rollback changed %s: %v", h, e)
	}
	if mountOf(t, h) != "" {
		t.Errorf("rollback left a mount on %s", h)
	}
	// Adding to a handle: a failure restores the marker as it was.
	os.Remove(h + "/uts")
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pid, "-u", h), 0)
	marker := testutil.ReadFile(t, h+"/"+pin.MarkerName)
	testutil.Fails(t, testutil.Run(t, bin, "pin", "-t", pid, "-u", "--net="+tmp+"/nodir/net", h), "pin: "+h+"/uts: already a namespace pin\n")
	if got := testutil.ReadFile(t, h+"/"+pin.MarkerName); got != marker {
		t.Errorf("rollback: marker %q, was %q", got, marker)
	}
	// A mount-namespace pin into it would need a self-bind, which would
	// hide the uts pin: refused.
	testutil.Fails(t, testutil.Run(t, bin, "pin", "-t", pid, "-m", h), "pin: cannot pin a mount namespace into "+h+": it holds pins already and is not a private mount point (a mount-namespace pin needs a private mount point, and making one now would hide them; release them first, or use another directory)\n")
	if got := testutil.ReadFile(t, h+"/"+pin.MarkerName); got != marker || mountOf(t, h) != "" || exists(h+"/mnt") {
		t.Errorf("rollback: marker %q (was %q), mount %q", got, marker, mountOf(t, h))
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", h), 0)
	// A handle made with a mount pin takes more pins, mnt or not.
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pid, "-m", "-u", h), 0)
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pid, "-n", "-i", h), 0)
	if !isPin(h+"/mnt") || !isPin(h+"/net") || mountOf(t, h) == "" {
		t.Errorf("adding to a prepared handle failed")
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", h), 0)
	if !exists(h) {
		t.Errorf("pin -d removed a directory it did not create")
	}
	if e, _ := os.ReadDir(h); len(e) != 0 || mountOf(t, h) != "" {
		t.Errorf("pin -d left %v, mount %q", e, mountOf(t, h))
	}
}

// TestPinUnprivileged: the test user can open its own processes'
// namespaces but cannot mount: every form fails with the kernel's reason
// and leaves nothing; it cannot release root's pins either. In a user and
// mount namespace of its own, it can pin.
// holdHint ends the message of a mount that an unprivileged caller may not make.
const holdHint = " (pins are mounts, which need privilege over this mount namespace; without it, use pin --hold -t PID DIR)\n"

func TestPinUnprivileged(t *testing.T) {
	bin, _ := setup(t)
	u := testutil.Unprivileged(t)
	nsenter := testutil.HaveUtilLinux(t, "nsenter")
	p := target(t, testutil.Opts{User: u}, "sleep", "60")
	pid := strconv.Itoa(p.Pid())
	home := u.Home
	cases := []struct {
		args []string
		err  string
	}{
		{[]string{"-t", pid, "--net=" + home + "/net"}, "pin: mount /proc/" + pid + "/ns/net on " + home + "/net failed: Operation not permitted" + holdHint},
		{[]string{"-t", pid, "-n", "-u", home + "/h"}, "pin: mount /proc/" + pid + "/ns/uts on " + home + "/h/uts failed: Operation not permitted" + holdHint},
		{[]string{"-t", pid, "-m", home + "/h"}, "pin: cannot bind " + home + "/h onto itself: Operation not permitted" + holdHint},
		{[]string{"-t", pid, "--netns", "nsboxtestu"}, "pin: cannot make /run/netns a shared mount: Operation not permitted\n"},
		{[]string{"-t", strconv.Itoa(os.Getpid()), "--net=" + home + "/net"}, "pin: cannot open /proc/" + strconv.Itoa(os.Getpid()) + "/ns/net: Permission denied\n"},
	}
	// Every type onto a file, and every type into a handle.
	for _, o := range typeOpts {
		f := home + "/" + o.file
		cases = append(cases, struct {
			args []string
			err  string
		}{[]string{"-t", pid, o.opt + "=" + f}, "pin: mount /proc/" + pid + "/ns/" + o.file + " on " + f + " failed: Operation not permitted" + holdHint})
	}
	cases = append(cases, []struct {
		args []string
		err  string
	}{
		{[]string{"-t", pid, "-a", home + "/h"}, "pin: cannot bind " + home + "/h onto itself: Operation not permitted" + holdHint},
		{[]string{"-t", pid, home + "/h"}, "pin: cannot bind " + home + "/h onto itself: Operation not permitted" + holdHint},
		{[]string{"-t", pid, "-U", "-C", "-i", "-p", "-T", home + "/h"}, "pin: mount /proc/" + pid + "/ns/user on " + home + "/h/user failed: Operation not permitted" + holdHint},
		{[]string{"-t", pid, "--for-children", "-p", "-T", home + "/h"}, "pin: mount /proc/" + pid + "/ns/pid_for_children on " + home + "/h/pid failed: Operation not permitted" + holdHint},
		{[]string{"-d", home}, "pin: " + home + ": not a pin directory\n"},
		{[]string{"-d", "--netns", "nsboxtestu"}, "pin: cannot open /run/netns/nsboxtestu: No such file or directory\n"},
	}...)
	for _, tc := range cases {
		r := testutil.RunAs(t, u, append([]string{bin, "pin"}, tc.args...)...)
		if r.Code != 1 || r.Stderr != tc.err {
			t.Errorf("as %s: pin %s:\n got %s\nwant exit 1, stderr %q", u.Name, strings.Join(tc.args, " "), r, tc.err)
		}
	}
	if e, _ := os.ReadDir(home); len(e) != 0 {
		t.Errorf("left in %s: %v", home, e)
	}
	for _, args := range [][]string{{"--help"}, {"-V"}} {
		if r := testutil.RunAs(t, u, bin, "pin", args[0]); r.Code != 0 || r.Stdout == "" || r.Stderr != "" {
			t.Errorf("as %s: pin %s: %s", u.Name, args[0], r)
		}
	}
	// Root pins into the user's home; the user can neither release it
	// nor anything else.
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", pid, "-n", home+"/root"), 0)
	testutil.Fails(t, testutil.RunAs(t, u, bin, "pin", "-d", home+"/root/net"), "pin: cannot unmount "+home+"/root/net: Operation not permitted\n")
	testutil.Fails(t, testutil.RunAs(t, u, bin, "pin", "-d", home+"/root"), "pin: cannot unmount "+home+"/root/net: Operation not permitted\n")
	if !isPin(home + "/root/net") {
		t.Errorf("the user released root's pin")
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", home+"/root"), 0)

	// Root of its own user and mount namespace, it can pin there.
	script := fmt.Sprintf(`set -e
%[1]s pin -t $$ -n -u %[2]s/h
%[3]s --net=%[2]s/h/net --uts=%[2]s/h/uts true
%[1]s pin -d %[2]s/h
test ! -e %[2]s/h`, bin, home, nsenter)
	r := testutil.RunAs(t, u, "unshare", "-r", "-m", "-n", "-u", "sh", "-c", script)
	if r.Code != 0 || r.Stderr != "" {
		t.Errorf("pin in the user's own namespaces: %s", r)
	}
}

// TestPinPureGo: the CGO_ENABLED=0 build pins and releases as well.
func TestPinPureGo(t *testing.T) {
	_, tmp := setup(t)
	bin := testutil.PureGoBinary(t)
	p := target(t, testutil.Opts{}, "unshare", "-n", "-m", "--propagation", "private", "sleep", "60")
	testutil.Must(t, testutil.Run(t, bin, "pin", "-t", strconv.Itoa(p.Pid()), tmp+"/h"), 0)
	if !isPin(tmp+"/h/net") || !isPin(tmp+"/h/mnt") {
		t.Errorf("not pinned")
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", tmp+"/h"), 0)
	if exists(tmp + "/h") {
		t.Errorf("not released")
	}
}

// TestPinHelpVersion: the CLI contract.
func TestPinHelpVersion(t *testing.T) {
	testutil.CheckNoLeaks(t, "/run/netns")
	bin := testutil.Binary(t)
	r := testutil.Run(t, bin, "pin", "--help")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "\nUsage:\n pin [options] -t <pid> <dir>\n") || r.Stderr != "" {
		t.Errorf("--help: %s", r)
	}
	r = testutil.Run(t, bin, "pin", "-V")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "pin from nsbox ") {
		t.Errorf("-V: %s", r)
	}
	if !strings.Contains(testutil.Run(t, bin, "--list").Stdout, "pin\n") {
		t.Errorf("pin not in --list")
	}
}

// childOf waits for the child of pid whose command is comm and returns its PID.
func childOf(t *testing.T, pid int, comm string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		for _, f := range strings.Fields(string(b)) {
			c, _ := os.ReadFile("/proc/" + f + "/comm")
			if strings.TrimSpace(string(c)) == comm {
				n, _ := strconv.Atoi(f)
				return n
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no child %q of %d", comm, pid)
	return 0
}

// gone waits until pid no longer exists.
func gone(pid int) bool {
	for i := 0; i < 300; i++ {
		if unix.Kill(pid, 0) == unix.ESRCH {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// TestPinHoldRootless is the rootless container end to end (issue 4): an
// unprivileged user with subordinate ranges creates a container with user,
// mount, pid, UTS, IPC and network namespaces and a full 65536-id map,
// pins it with --hold (mounts are out of its reach), enters it through the
// handle while it runs, enters its namespaces again after every process of
// it is gone, and releases it, leaving nothing.
func TestPinHoldRootless(t *testing.T) {
	bin, _ := setup(t)
	u := testutil.Unprivileged(t)
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	dir := u.Home + "/box"
	p := testutil.Start(t, testutil.Opts{User: u}, bin, "unshare", "--map-auto", "-r", "-f", "-pmuin", "--mount-proc",
		"sh", "-c", "hostname box; exec sleep 60")
	init := childOf(t, p.Pid(), "sleep")

	// Without privilege, mounts fail and say what to do instead.
	testutil.Fails(t, testutil.RunAs(t, u, bin, "pin", "-t", strconv.Itoa(init), dir),
		"pin: cannot bind "+dir+" onto itself: Operation not permitted"+holdHint)
	if exists(dir) {
		t.Fatalf("a failed pin left %s", dir)
	}

	r := testutil.RunAs(t, u, bin, "pin", "--hold", "-t", strconv.Itoa(init), dir)
	m := regexp.MustCompile(`^pin: ` + regexp.QuoteMeta(dir) + ` is held by process (\d+) \(pin -d ` + regexp.QuoteMeta(dir) + ` stops it\)\n$`).FindStringSubmatch(r.Stdout)
	if r.Code != 0 || m == nil {
		t.Fatalf("pin --hold: %s", r)
	}
	holderPID, _ := strconv.Atoi(m[1])
	t.Cleanup(func() { unix.Kill(holderPID, unix.SIGKILL) }) // only if the test fails half-way
	for _, n := range []string{"user", "mnt", "uts", "ipc", "net", "pid", "cgroup"} {
		target, err := os.Readlink(dir + "/" + n)
		if err != nil || !strings.HasPrefix(target, fmt.Sprintf("/proc/%d/fd/", holderPID)) {
			t.Errorf("%s/%s -> %q, %v", dir, n, target, err)
		}
		if inode(t, dir+"/"+n) != inode(t, fmt.Sprintf("/proc/%d/ns/%s", init, n)) && n != "pid" && n != "cgroup" {
			t.Errorf("%s/%s is not the container's %s namespace", dir, n, n)
		}
	}
	// A second handle into the same directory is refused.
	testutil.Fails(t, testutil.RunAs(t, u, bin, "pin", "--hold", "-t", strconv.Itoa(init), dir),
		"pin: "+dir+": already a namespace pin (it is a pin directory already; release it first (pin -d))\n")

	// Entered through the handle while it runs: its host name, its full
	// map, only its processes.
	sub := strconv.Itoa(u.SubUIDStart)
	r = testutil.RunAs(t, u, bin, "nsenter", "--dir", dir, "--preserve-credentials", "sh", "-c",
		"hostname; cat /proc/self/uid_map; ls /proc | grep -c '^[0-9]'")
	if f := strings.SplitN(r.Stdout, "\n", 4); r.Code != 0 || len(f) < 4 || f[0] != "box" ||
		norm(f[1]+f[2]) != fmt.Sprintf("0 %d 1 1 %s 65535", u.UID, sub) || norm(f[3]) != "4" {
		t.Errorf("nsenter --dir while the container runs (want box, the maps, 4 processes: sleep, sh, ls, grep): %s", r)
	}

	// Every process of the container gone: the held namespaces remain.
	unix.Kill(init, unix.SIGKILL)
	p.Wait()
	r = testutil.RunAs(t, u, bin, "nsenter", "--user="+dir+"/user", "--mount="+dir+"/mnt", "--uts="+dir+"/uts",
		"--ipc="+dir+"/ipc", "--net="+dir+"/net", "sh", "-c", "hostname; id -u; ip -o link | wc -l")
	if r.Code != 0 || norm(r.Stdout) != "box 0 1" {
		t.Errorf("nsenter into the held namespaces later (want box, root, only lo): %s", r)
	}

	testutil.Must(t, testutil.RunAs(t, u, bin, "pin", "-d", dir), 0)
	if exists(dir) {
		t.Errorf("pin -d left %s", dir)
	}
	if !gone(holderPID) {
		t.Errorf("holder %d still runs after pin -d", holderPID)
	}
}

// TestPinHold: --hold as root, its refusals, and a release after the
// holder died by itself (the links go, nothing else is touched).
func TestPinHold(t *testing.T) {
	bin, tmp := setup(t)
	p := target(t, testutil.Opts{}, "unshare", "-n", "-u", "sleep", "60")
	defer kill(t, p)
	pid := strconv.Itoa(p.Pid())
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"--hold", "-t", pid, "-n"}, "pin: --hold needs a <dir> and takes no --netns\n"},
		{[]string{"--hold", "-t", pid, "--netns", "nsboxtesth", tmp + "/h"}, "pin: --hold needs a <dir> and takes no --netns\n"},
		{[]string{"--hold", "-t", pid, "--net=" + tmp + "/net", tmp + "/h"}, "pin: --hold pins into the <dir> only: --net takes no <file>\n"},
		{[]string{"-d", "--hold", tmp + "/h"}, "pin: --delete takes no --target, --all, --for-children, --hold, --json or namespace options\n"},
		{[]string{"--hold", "-t", "999999999", tmp + "/h"}, "pin: cannot open /proc/999999999/ns/user: No such file or directory\n"},
	} {
		testutil.Fails(t, testutil.Run(t, append([]string{bin, "pin"}, c.args...)...), c.err)
		if exists(tmp + "/h") {
			t.Fatalf("pin %v left %s", c.args, tmp+"/h")
		}
	}
	r := testutil.Run(t, bin, "pin", "--hold", "-t", pid, "-n", "-u", tmp+"/h")
	testutil.Must(t, r, 0)
	b, _ := os.ReadFile(tmp + "/h/" + pin.MarkerName)
	var holderPID int
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "holder" {
			holderPID, _ = strconv.Atoi(f[1])
		}
	}
	if holderPID == 0 {
		t.Fatalf("no holder in the marker: %q", b)
	}
	out := testutil.Run(t, "nsenter", "--net="+tmp+"/h/net", "--uts="+tmp+"/h/uts", "ip", "-o", "link")
	if out.Code != 0 || !strings.Contains(out.Stdout, "lo:") || strings.Count(out.Stdout, "\n") != 1 {
		t.Errorf("util-linux nsenter through the held links: %s", out)
	}
	// The holder dies by itself: releasing removes the links and the
	// directory, and stops no other process.
	unix.Kill(holderPID, unix.SIGKILL)
	if !gone(holderPID) {
		t.Fatalf("holder %d did not die", holderPID)
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", tmp+"/h"), 0)
	if exists(tmp + "/h") {
		t.Errorf("pin -d left %s", tmp+"/h")
	}
}

// TestPinHolderWaitsForRecord: a holder (the "hold" stage, in C in the
// cgo build and in Go in the other) stays only once its maker has written
// a byte to its stdin (recorded it in the marker); end of file first (the
// maker was killed) and it exits, so that no holder outlives a pin --hold
// killed before it recorded it.
func TestPinHolderWaitsForRecord(t *testing.T) {
	setup(t)
	for _, bin := range []string{testutil.Binary(t), testutil.PureGoBinary(t)} {
		for _, recorded := range []bool{false, true} {
			name := fmt.Sprintf("%s recorded=%v", filepath.Base(bin), recorded)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			p, err := os.StartProcess(bin, []string{"pin"}, &os.ProcAttr{
				Env:   append(os.Environ(), nsexec.EnvStage+"="+pin.StageHold, nsexec.EnvPrefix+"NAME=pin"),
				Files: []*os.File{r, null, null},
			})
			r.Close()
			null.Close()
			if err != nil {
				t.Fatal(err)
			}
			exited := make(chan *os.ProcessState, 1)
			go func() { st, _ := p.Wait(); exited <- st }()
			if recorded {
				w.Write([]byte{'\n'})
			}
			w.Close() // the maker is done, or killed
			select {
			case st := <-exited:
				if recorded {
					t.Errorf("%s: the holder exited: %v", name, st)
				}
				continue
			case <-time.After(time.Second):
				if !recorded {
					t.Errorf("%s: the holder outlives its maker", name)
				}
			}
			if fd0, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", p.Pid)); recorded && fd0 != os.DevNull {
				t.Errorf("%s: stdin of the holder staying is %q, not %s", name, fd0, os.DevNull)
			}
			p.Kill()
			<-exited
		}
	}
}
