package pivot_test

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/nsfs"
)

// These tests run the built binary's pivot inside "nsbox unshare -m" (as
// root) and "nsbox unshare -r -m" (as the unprivileged test user), into a
// copy of the root filesystem that "make rootfs" builds (NSBOX_ROOTFS,
// else out/rootfs of this module), and look at the container from inside
// with its busybox tools. Each checks that the test process's mount table
// is unchanged afterwards.

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// copyTree copies the directories, regular files and symbolic links of
// src into dst (which must not exist), keeping modes.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case fi.IsDir():
			if err := os.Mkdir(to, fi.Mode().Perm()); err != nil {
				return err
			}
			return os.Chmod(to, fi.Mode().Perm()|fi.Mode()&os.ModeSticky)
		case fi.Mode()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, to)
		case fi.Mode().IsRegular():
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			return out.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}

// setup starts a test: root, the leak check, the binary and a fresh copy
// of the root filesystem at <parent>/root (parent: a t.TempDir, or the
// unprivileged user's home when u is given, which that user can reach).
func setup(t *testing.T) (bin, root string) {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	bin = testutil.Binary(t)
	root = filepath.Join(t.TempDir(), "root")
	copyTree(t, testutil.Rootfs(t), root)
	return bin, root
}

// unprivRoot is a copy of the root filesystem the test user can reach.
func unprivRoot(t *testing.T, u *testutil.User) string {
	t.Helper()
	root := filepath.Join(u.Home, "root")
	copyTree(t, testutil.Rootfs(t), root)
	return root
}

// sections splits a container's output at lines "== NAME".
func sections(out string) map[string]string {
	m := map[string]string{}
	name := ""
	for _, l := range strings.SplitAfter(out, "\n") {
		if n, ok := strings.CutPrefix(l, "== "); ok {
			name = strings.TrimSpace(n)
			m[name] = ""
			continue
		}
		m[name] += l
	}
	return m
}

// mountSet is "MOUNTPOINT FSTYPE SOURCE" per mount of a mountinfo text.
func mountSet(t *testing.T, mountinfo string) []string {
	t.Helper()
	ms, err := nsfs.ParseMountinfo(strings.NewReader(mountinfo))
	if err != nil {
		t.Fatalf("mountinfo: %v\n%s", err, mountinfo)
	}
	var s []string
	for _, m := range ms {
		s = append(s, m.MountPoint+" "+m.FSType+" "+m.Source)
	}
	return s
}

func mountPoints(t *testing.T, mountinfo string) []string {
	t.Helper()
	var s []string
	for _, m := range mountSet(t, mountinfo) {
		s = append(s, strings.Fields(m)[0])
	}
	return s
}

func lines(s string) []string { return strings.Fields(s) }

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// hostMounts is the test process's whole mount table, propagation
// included, to compare before and after a run.
func hostMounts(t *testing.T) string {
	return testutil.ReadFile(t, "/proc/self/mountinfo")
}

// The mount points pivot makes by default, in order.
var defaultMounts = []string{"/", "/proc", "/sys", "/dev", "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
	"/dev/urandom", "/dev/tty", "/dev/pts", "/dev/shm", "/dev/mqueue", "/tmp", "/run"}

var devEntries = []string{"fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin",
	"stdout", "tty", "urandom", "zero"}

// inside is what TestContainer runs in the container.
const inside = `
echo "== ls"; ls -a /
echo "== mountinfo"; cat /proc/self/mountinfo
echo "== ps"; ps -o pid,comm
echo "== dev"; ls -a /dev
echo "== id"; id
echo "== sys"; touch /sys/x 2>&1; grep ' /sys ' /proc/self/mountinfo | cut -d' ' -f6
echo "== tmp"; echo hi >/tmp/f && cat /tmp/f && echo hi >/run/f && cat /run/f && echo hi >/dev/shm/f && cat /dev/shm/f
echo "== null"; echo x >/dev/null && head -c 4 /dev/zero | od -An -tx1 && head -c 1 /dev/urandom | wc -c
echo "== pts"; ls /dev/pts; ls -l /dev/pts/ptmx | cut -c1-10
echo "== net"; ip link set lo up && ip addr show lo | grep -c 'inet 127.0.0.1' && ping -c 1 -W 5 127.0.0.1 >/dev/null && echo ping ok
echo "== hostname"; hostname
echo "== nsbox"; nsbox --list | grep -c pivot
`

func checkContainer(t *testing.T, root string, r testutil.Result) {
	t.Helper()
	testutil.Must(t, r, 0)
	if r.Stderr != "" {
		t.Errorf("stderr: %q", r.Stderr)
	}
	s := sections(r.Stdout)
	want := append([]string{".", ".."}, entries(t, root)...)
	sort.Strings(want)
	if got := lines(s["ls"]); !reflect.DeepEqual(got, want) {
		t.Errorf("ls -a /: got %v, want %v (the new root's entries)", got, want)
	}
	// No trace of the old root: the mounts are exactly pivot's.
	if got := mountPoints(t, s["mountinfo"]); !reflect.DeepEqual(got, defaultMounts) {
		t.Errorf("mount points: got %v, want %v\n%s", got, defaultMounts, s["mountinfo"])
	}
	if got := lines(s["ps"]); !reflect.DeepEqual(got, []string{"PID", "COMMAND", "1", "sh", got[len(got)-2], "ps"}) || len(got) != 6 {
		t.Errorf("ps: only sh (PID 1) and ps, got %q", s["ps"])
	}
	if got := lines(s["dev"]); !reflect.DeepEqual(got, append([]string{".", ".."}, devEntries...)) {
		t.Errorf("ls -a /dev: got %v, want %v", got, devEntries)
	}
	if got := strings.TrimSpace(s["id"]); !strings.HasPrefix(got, "uid=0(root) gid=0(root)") {
		t.Errorf("id: %q", got)
	}
	if got := s["sys"]; got != "touch: /sys/x: Read-only file system\nro,nosuid,nodev,noexec,relatime\n" {
		t.Errorf("sysfs not read-only: %q", got)
	}
	if got := s["tmp"]; got != "hi\nhi\nhi\n" {
		t.Errorf("tmp, run, shm: %q", got)
	}
	if got := strings.Fields(s["null"]); !reflect.DeepEqual(got, []string{"00", "00", "00", "00", "1"}) {
		t.Errorf("null, zero, urandom: %q", s["null"])
	}
	if got := s["pts"]; got != "ptmx\ncrw-rw-rw-\n" {
		t.Errorf("devpts: %q", got)
	}
	if got := s["net"]; got != "1\nping ok\n" {
		t.Errorf("ip, ping: %q", got)
	}
	if got := s["nsbox"]; got != "1\n" {
		t.Errorf("nsbox --list in the container: %q", got)
	}
}

// TestContainer: after pivot, / holds only the new root's entries, the
// mount table is exactly pivot's (the old root is gone), ps sees only the
// container's processes, /dev holds exactly the listed nodes and links,
// sysfs is read-only, and the tools of the root filesystem work. As root
// in "unshare -m -p -f -u", and as the unprivileged user in "unshare -r -m
// -p -f -n -i -u"; both builds of the binary.
func TestContainer(t *testing.T) {
	t.Run("root", func(t *testing.T) {
		bin, root := setup(t)
		before := hostMounts(t)
		r := testutil.Run(t, bin, "unshare", "-m", "-p", "-f", "-u", "--hostname", "box", bin, "pivot", root, "/bin/sh", "-c", inside)
		checkContainer(t, root, r)
		if s := sections(r.Stdout); s["hostname"] != "box\n" {
			t.Errorf("hostname: %q", s["hostname"])
		}
		// Seen from the mount namespace's own root (where nsenter -m
		// goes), not only from the container's: nothing of the old root.
		var mps []string
		for _, m := range namespaceMounts(t, bin, root) {
			mps = append(mps, strings.Fields(m)[0])
		}
		if !reflect.DeepEqual(mps, defaultMounts) {
			t.Errorf("the namespace's mounts: %v, want %v", mps, defaultMounts)
		}
		if after := hostMounts(t); after != before {
			t.Errorf("the mount table changed:\n%s\nafter:\n%s", before, after)
		}
	})
	t.Run("unprivileged", func(t *testing.T) {
		bin, _ := setup(t)
		u := testutil.Unprivileged(t)
		root := unprivRoot(t, u)
		r := testutil.RunAs(t, u, bin, "unshare", "-r", "-m", "-p", "-f", "-n", "-i", "-u", "--hostname", "box", bin, "pivot", root, "/bin/sh", "-c", inside)
		checkContainer(t, root, r)
	})
	t.Run("purego", func(t *testing.T) {
		_, root := setup(t)
		bin := testutil.PureGoBinary(t)
		r := testutil.Run(t, bin, "unshare", "-m", "-p", "-f", bin, "pivot", root, "/bin/sh", "-c", inside)
		checkContainer(t, root, r)
	})
}

// TestProcInNewPidNs: under "unshare -p -f --mount-proc" /proc is the
// container's and PID 1 shares pivot's mount namespace: pivot must not
// take that for the host's initial namespace. hidepid and subset=pid
// reach the proc mount.
func TestProcInNewPidNs(t *testing.T) {
	bin, root := setup(t)
	r := testutil.Run(t, bin, "unshare", "-m", "-p", "-f", "--mount-proc", bin, "pivot", "--proc-opts", "hidepid=invisible,subset=pid",
		root, "/bin/sh", "-c", "grep ' /proc ' /proc/self/mountinfo | cut -d' ' -f 9-; ls /proc | grep -c -e sys -e cpuinfo")
	testutil.Must(t, r, 1) // grep -c found nothing
	if r.Stdout != "proc rw,hidepid=invisible,subset=pid\n0\n" || r.Stderr != "" {
		t.Errorf("got %s", r)
	}
}

// TestMove: --move switches the way pivot does on the initramfs (MS_MOVE
// of the new root onto /, chroot): the container sees only its root and
// mounts (the old root stays beneath, covered, where no mountinfo shows
// it).
func TestMove(t *testing.T) {
	bin, root := setup(t)
	r := testutil.Run(t, bin, "unshare", "-m", "-p", "-f", bin, "pivot", "-v", "--move", root, "/bin/sh", "-c", "ls -a /; cat /proc/self/mountinfo")
	testutil.Must(t, r, 0)
	want := append([]string{".", ".."}, entries(t, root)...)
	sort.Strings(want)
	out := strings.SplitN(r.Stdout, "\n", len(want)+1)
	if got := out[:len(want)]; !reflect.DeepEqual(got, want) {
		t.Errorf("ls -a /: %v, want %v", got, want)
	}
	if got := mountPoints(t, out[len(want)]); !reflect.DeepEqual(got, defaultMounts) {
		t.Errorf("mount points: %v, want %v", got, defaultMounts)
	}
	if !strings.HasSuffix(r.Stderr, "pivot: switching with MS_MOVE + chroot, as asked (the old root stays mounted beneath)\n") {
		t.Errorf("stderr: %q", r.Stderr)
	}
	testutil.Refused(t, testutil.Run(t, bin, "unshare", "-m", bin, "pivot", "--move", "--chroot", root), 1, "pivot: mutually exclusive arguments: --chroot --move\n")
	// A bad proc option: the kernel's own words.
	testutil.Refused(t, testutil.Run(t, bin, "unshare", "-m", bin, "pivot", "--proc-opts", "hidepid=2,bogus", root), 1,
		"pivot: mount proc on /proc: Invalid argument: proc: Unknown parameter 'bogus'\n")
}

// TestReadOnly: --ro makes the root read-only, not tmp, run or dev.
func TestReadOnly(t *testing.T) {
	bin, root := setup(t)
	r := testutil.Run(t, bin, "unshare", "-m", bin, "pivot", "--ro", root, "/bin/sh", "-c",
		"touch /x 2>&1; mkdir /etc/y 2>&1; touch /tmp/x /run/x /dev/shm/x && echo writable; awk '$5 == \"/\" { print $6 }' /proc/self/mountinfo")
	testutil.Must(t, r, 0)
	want := "touch: /x: Read-only file system\nmkdir: can't create directory '/etc/y': Read-only file system\nwritable\nro,relatime\n"
	if r.Stdout != want || r.Stderr != "" {
		t.Errorf("got %s\nwant stdout %q", r, want)
	}
	if _, err := os.Stat(filepath.Join(root, "x")); !os.IsNotExist(err) {
		t.Errorf("the root was written: %v", err)
	}
}

// TestBinds: --bind (written through to the host), --ro-bind, --tmpfs and
// a file bind, made in the order given (the tmpfs at /mnt/a first, then
// binds under it); missing mount points are made in the new root.
func TestBinds(t *testing.T) {
	bin, root := setup(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := testutil.Run(t, bin, "unshare", "-m", bin, "pivot",
		"--tmpfs", "/mnt/a", "--bind", src+":/mnt/a/rw", "--ro-bind", src+":/mnt/a/ro", "--ro-bind", filepath.Join(src, "f")+":/etc/f",
		"--bind", src+":data/x/", root, "/bin/sh", "-c",
		"cat /mnt/a/rw/f /mnt/a/ro/f /etc/f; echo new >/mnt/a/rw/new; touch /mnt/a/ro/y 2>&1; { echo >/etc/f; } 2>&1; ls /data/x; "+
			"grep -e ' /mnt/' -e ' /etc/f ' -e ' /data/' /proc/self/mountinfo | cut -d' ' -f5,6")
	testutil.Must(t, r, 0)
	want := "data\ndata\ndata\n" +
		"touch: /mnt/a/ro/y: Read-only file system\n/bin/sh: can't create /etc/f: Read-only file system\n" +
		"f\nnew\n" +
		"/mnt/a rw,nosuid,nodev,relatime\n/mnt/a/rw rw,relatime\n/mnt/a/ro ro,relatime\n/etc/f ro,relatime\n/data/x rw,relatime\n"
	if r.Stdout != want || r.Stderr != "" {
		t.Errorf("got %s\nwant stdout:\n%s", r, want)
	}
	if b, err := os.ReadFile(filepath.Join(src, "new")); err != nil || string(b) != "new\n" {
		t.Errorf("--bind did not write through: %q %v", b, err)
	}
	// The mount points were made in the new root, and nothing else.
	for _, p := range []string{"mnt/a", "etc/f", "data/x"} {
		if _, err := os.Lstat(filepath.Join(root, p)); err != nil && p != "mnt/a" {
			t.Errorf("mount point %s: %v", p, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "mnt", "a", "rw")); err == nil {
		t.Errorf("mnt/a/rw was made under the tmpfs, not in the root")
	}
}

// TestUnprivilegedBinds: the test user's root in its user namespace binds
// onto existing mount points; a fresh sysfs is its own network
// namespace's.
func TestUnprivilegedBinds(t *testing.T) {
	bin, _ := setup(t)
	u := testutil.Unprivileged(t)
	root := unprivRoot(t, u)
	src := filepath.Join(u.Home, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(src, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	r := testutil.RunAs(t, u, bin, "unshare", "-r", "-m", "-p", "-f", "-n", "-i", bin, "pivot", "--ro",
		"--bind", src+":/mnt", "--ro-bind", "/etc/hostname:/etc/hosts", root, "/bin/sh", "-c",
		"echo w >/mnt/w && cat /mnt/w; touch /x 2>&1; { echo >/etc/hosts; } 2>&1; ls /sys/class/net")
	testutil.Must(t, r, 0)
	want := "w\ntouch: /x: Read-only file system\n/bin/sh: can't create /etc/hosts: Read-only file system\nlo\n"
	if r.Stdout != want || r.Stderr != "" {
		t.Errorf("got %s\nwant stdout %q", r, want)
	}
}

// TestNotes: where the user namespace does not own the network and IPC
// namespaces, /sys is a read-only bind of the host's and /dev/mqueue is
// left out, each with a note.
func TestNotes(t *testing.T) {
	bin, _ := setup(t)
	u := testutil.Unprivileged(t)
	root := unprivRoot(t, u)
	r := testutil.RunAs(t, u, bin, "unshare", "-r", "-m", "-p", "-f", bin, "pivot", root, "/bin/sh", "-c",
		"grep -e ' /sys ' -e ' /dev/mqueue ' /proc/self/mountinfo | cut -d' ' -f5,6,9; touch /sys/x 2>&1; true")
	testutil.Must(t, r, 0)
	if want := "/sys ro,relatime sysfs\ntouch: /sys/x: Read-only file system\n"; r.Stdout != want {
		t.Errorf("stdout %q, want %q", r.Stdout, want)
	}
	want := "pivot: note: the network namespace is not owned by this user namespace, so sysfs cannot be mounted: " +
		"/sys is a read-only bind of the host's /sys, which shows the host's network devices (unshare -n as well, or --no-sys)\n" +
		"pivot: note: the IPC namespace is not owned by this user namespace, so /dev/mqueue is left out (unshare -i as well, or --no-mqueue)\n"
	if r.Stderr != want {
		t.Errorf("stderr %q, want %q", r.Stderr, want)
	}
	// Without the pid namespace, proc cannot be mounted: said before
	// anything is.
	r = testutil.RunAs(t, u, bin, "unshare", "-r", "-m", bin, "pivot", root, "/bin/true")
	testutil.Refused(t, r, 1, "pivot: cannot mount proc: the pid namespace is not owned by this user namespace (unshare -p -f with -U, so that the user namespace owns it, or --no-proc)\n")
}

// TestNoMounts: every standard mount can be left out, and --dev host is
// the kernel's devtmpfs.
func TestNoMounts(t *testing.T) {
	bin, root := setup(t)
	r := testutil.Run(t, bin, "unshare", "-m", bin, "pivot", "--no-proc", "--no-sys", "--no-dev", "--no-devpts", "--no-shm",
		"--no-mqueue", "--no-tmp", "--no-run", "--bind", "/proc:/proc", root, "/bin/sh", "-c", "cat /proc/self/mountinfo")
	testutil.Must(t, r, 0)
	// Only the root and the host's /proc (with whatever is mounted under it).
	got := mountPoints(t, r.Stdout)
	for i, mp := range got {
		if i == 0 && mp != "/" || i == 1 && mp != "/proc" || i > 1 && !strings.HasPrefix(mp, "/proc/") {
			t.Errorf("mounts with every --no option: %v", got)
			break
		}
	}
	r = testutil.Run(t, bin, "unshare", "-m", bin, "pivot", "--no-proc", "--no-sys", "--no-devpts", "--no-shm",
		"--no-mqueue", "--no-tmp", "--no-run", root, "/bin/sh", "-c", "ls /dev")
	testutil.Must(t, r, 0)
	want := []string{"fd", "full", "null", "random", "stderr", "stdin", "stdout", "tty", "urandom", "zero"}
	if got := lines(r.Stdout); !reflect.DeepEqual(got, want) {
		t.Errorf("/dev without devpts, shm, mqueue: %v, want %v", got, want)
	}
	r = testutil.Run(t, bin, "unshare", "-m", bin, "pivot", "--dev", "host", root, "/bin/sh", "-c",
		"awk 'index($5, \"/dev\") == 1 { print $5, $9 }' /proc/self/mountinfo; test -e /dev/vda && echo host devices")
	testutil.Must(t, r, 0)
	// The host's devtmpfs has no /dev/mqueue, and nothing is made in it.
	if want := "/dev devtmpfs\n/dev/pts devpts\n/dev/shm shm\nhost devices\n"; r.Stdout != want ||
		r.Stderr != "pivot: note: mqueue is left out: /dev/mqueue does not exist in the new root and is not created there\n" {
		t.Errorf("--dev host: got %s", r)
	}
}

// TestSeed: --seed makes the seed recipe's exact mount set: its
// filesystems, sources, no nosuid/nodev/noexec, a read-write sysfs and
// the host's devtmpfs.
func TestSeed(t *testing.T) {
	bin, root := setup(t)
	r := testutil.Run(t, bin, "unshare", "-m", "-p", "-f", bin, "pivot", "--seed", root, "/bin/cat", "/proc/self/mountinfo")
	testutil.Must(t, r, 0)
	want := []string{"/ ext4", "/proc proc proc", "/sys sysfs sysfs", "/tmp tmpfs none", "/dev devtmpfs udev",
		"/dev/pts devpts devpts", "/dev/shm tmpfs shm", "/run tmpfs tmpfs"}
	got := mountSet(t, r.Stdout)
	if len(got) > 0 {
		got[0] = strings.Join(strings.Fields(got[0])[:2], " ")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("seed mount set:\n got %q\nwant %q", got, want)
	}
	ms, _ := nsfs.ParseMountinfo(strings.NewReader(r.Stdout))
	for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		if f := strings.Fields(l); strings.Contains(f[5], "nosuid") || strings.Contains(f[5], "ro,") {
			t.Errorf("seed mount with flags: %s", l)
		}
	}
	if len(ms) != len(want) {
		t.Errorf("%d mounts", len(ms))
	}
	// --chroot switches as the recipe does: the old root stays in the
	// mount namespace, where pivot_root leaves nothing of it.
	for _, c := range []struct {
		args []string
		old  bool
	}{{[]string{"--seed", "--chroot"}, true}, {[]string{"--seed"}, false}, {nil, false}} {
		n := namespaceMounts(t, bin, append(c.args, root)...)
		// The old root holds the new one at its host path.
		hasOld := false
		for _, m := range n {
			hasOld = hasOld || strings.Fields(m)[0] == root
		}
		if hasOld != c.old {
			t.Errorf("pivot %v: old root in the namespace %v, want %v:\n%s", c.args, hasOld, c.old, strings.Join(n, "\n"))
		}
	}
}

// namespaceMounts runs "pivot ARGS... sleep", then lists its mount
// namespace's whole mount table from the namespace's own root (nsenter -m
// goes there): what a chroot would hide from /proc/self/mountinfo.
func namespaceMounts(t *testing.T, bin string, args ...string) []string {
	t.Helper()
	argv := append(append([]string{bin, "unshare", "-m", bin, "pivot"}, args...), "/bin/sleep", "60")
	p := testutil.Start(t, testutil.Opts{}, argv...).WaitExec(t, "sleep", 10*time.Second)
	r := testutil.Run(t, bin, "nsenter", "-t", strconv.Itoa(p.Pid()), "-m", "cat", "/proc/self/mountinfo")
	testutil.Must(t, r, 0)
	p.Signal(syscall.SIGKILL)
	p.Wait()
	return mountSet(t, r.Stdout)
}

// refusal is a pivot command line (its arguments after "pivot") refused
// with msg, status 1.
type refusal struct {
	args []string
	msg  string
}

// allRefused runs each refusal in "unshare -m" and checks that neither the
// entries of root nor the test's mount table changed: nothing was made or
// mounted.
func allRefused(t *testing.T, bin, root string, cases []refusal) {
	t.Helper()
	before := hostMounts(t)
	listing := entries(t, root)
	for _, c := range cases {
		argv := append([]string{bin, "unshare", "-m", bin, "pivot"}, c.args...)
		testutil.Refused(t, testutil.Run(t, argv...), 1, c.msg)
	}
	if got := entries(t, root); !reflect.DeepEqual(got, listing) {
		t.Errorf("the new root changed: %v, was %v", got, listing)
	}
	if after := hostMounts(t); after != before {
		t.Errorf("the mount table changed")
	}
}

// symlinks makes each link name -> target under dir.
func symlinks(t *testing.T, dir string, links map[string]string) {
	t.Helper()
	for name, target := range links {
		p := filepath.Join(dir, name)
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEscapes: a destination that leaves the new root, by a symbolic link
// (absolute or relative) or "..", is refused before anything is mounted;
// a relative link that stays inside is followed.
func TestEscapes(t *testing.T) {
	bin, root := setup(t)
	symlinks(t, root, map[string]string{"abs": "/etc", "rel": "../../../../../..", "inside": "mnt", "run2": "/run"})
	out := func(p string) string {
		return "destination escapes the new root: " + p + " is a symbolic link out of " + root + "\n"
	}
	allRefused(t, bin, root, []refusal{
		{[]string{"--tmpfs", "/abs/x", root}, "pivot: --tmpfs /abs/x: " + out("/abs")},
		{[]string{"--bind", "/etc:/rel/x", root}, "pivot: --bind /etc:/rel/x: " + out("/rel")},
		{[]string{"--tmpfs", "/abs", root}, "pivot: --tmpfs /abs: " + out("/abs")},
		{[]string{"--bind", "/etc:../x", root}, "pivot: --bind /etc:../x: destination escapes the new root: ../x leads out of the new root\n"},
		{[]string{"--ro-bind", "/etc:/a/../../x", root}, "pivot: --ro-bind /etc:/a/../../x: destination escapes the new root: /a/../../x leads out of the new root\n"},
		{[]string{"--tmpfs", "/run2/x", root}, "pivot: --tmpfs /run2/x: " + out("/run2")},
	})
	// A standard mount point that is a link out of the root.
	symlinks(t, root, map[string]string{"tmp": "/tmp"})
	allRefused(t, bin, root, []refusal{{[]string{root, "/bin/true"}, "pivot: tmp: " + out("/tmp")}})
	testutil.Must(t, testutil.Run(t, bin, "unshare", "-m", bin, "pivot", "--no-tmp", "--tmpfs", "/inside/t", root, "/bin/sh", "-c",
		"grep -c ' /mnt/t ' /proc/self/mountinfo"), 0)
}

// TestMountPointIsRoot: a mount point that resolves to the new root itself
// (a link "tmp -> .", or through a chain of links) is refused before
// anything is mounted: a mount there would cover the whole root. The
// refusal is by mount and inode, so a link that only looks different is
// caught as well.
func TestMountPointIsRoot(t *testing.T) {
	bin, root := setup(t)
	symlinks(t, root, map[string]string{"here": ".", "up": "mnt/..", "sub": "etc", "etc/parent": "..", "tmp": "."})
	back := func(p string) string {
		return "destination is the new root itself: " + p + " leads back to " + root + "\n"
	}
	allRefused(t, bin, root, []refusal{
		{[]string{root, "/bin/true"}, "pivot: tmp: " + back("/tmp")},
		{[]string{"--no-tmp", "--tmpfs", "/here", root}, "pivot: --tmpfs /here: " + back("/here")},
		{[]string{"--no-tmp", "--bind", "/etc:/up", root}, "pivot: --bind /etc:/up: " + back("/up")},
		{[]string{"--no-tmp", "--ro-bind", "/etc:/sub/parent", root}, "pivot: --ro-bind /etc:/sub/parent: " + back("/sub/parent")},
	})
	// A link to a directory inside the root is followed.
	r := testutil.Run(t, bin, "unshare", "-m", bin, "pivot", "--no-tmp", "--tmpfs", "/sub/t", root, "/bin/sh", "-c",
		"grep -c ' /etc/t ' /proc/self/mountinfo")
	testutil.Must(t, r, 0)
}

// TestBadInput: bad input is refused with a clear message before anything
// is mounted or made in the new root.
func TestBadInput(t *testing.T) {
	bin, root := setup(t)
	file := filepath.Join(root, "etc", "passwd")
	allRefused(t, bin, root, []refusal{
		{nil, "pivot: no new root specified\nTry 'pivot --help' for more information.\n"},
		{[]string{"/nonexistent"}, "pivot: /nonexistent: No such file or directory\n"},
		{[]string{file}, "pivot: " + file + ": Not a directory\n"},
		{[]string{"--bind", "/etc:/etc/passwd", root}, "pivot: --bind /etc:/etc/passwd: cannot mount a directory on a file: /etc/passwd is not a directory in " + root + "\n"},
		{[]string{"--tmpfs", "/etc/passwd/x", root}, "pivot: --tmpfs /etc/passwd/x: /etc/passwd in " + root + ": Not a directory\n"},
		{[]string{"--bind", "/etc/hostname:/etc", root}, "pivot: --bind /etc/hostname:/etc: cannot mount a file on a directory: /etc is a directory in " + root + "\n"},
		{[]string{"--bind", "/nonexistent:/x", root}, "pivot: --bind /nonexistent:/x: cannot access /nonexistent: No such file or directory\n"},
		{[]string{"--bind", ":/x", root}, "pivot: --bind :/x: empty source\n"},
		{[]string{"--tmpfs", "/", root}, "pivot: --tmpfs /: destination is the new root itself\n"},
		{[]string{"--sys", "bogus", root}, "pivot: unsupported --sys mode: bogus\n"},
		{[]string{"--dev", "bogus", root}, "pivot: unsupported --dev mode: bogus\n"},
		{[]string{"--propagation", "shared", root}, "pivot: unsupported propagation mode: shared\n"},
		{[]string{"--seed", "--sys", "new", root}, "pivot: --seed makes the seed recipe's mounts: --sys, --dev and --proc-opts do not apply\n"},
		{[]string{"--bogus", root}, "pivot: unrecognized option '--bogus'\nTry 'pivot --help' for more information.\n"},
		{[]string{"/"}, "pivot: /: the new root is the current root\n"},
	})
	if _, err := os.Stat(filepath.Join(root, "x")); !os.IsNotExist(err) {
		t.Errorf("a mount point was made: %v", err)
	}
}

// TestExec: exit statuses pass through; a missing program is 127, one
// that cannot be executed 126 (the PATH lookup happens in the new root);
// without a program, /bin/sh runs.
func TestExec(t *testing.T) {
	bin, root := setup(t)
	testutil.Must(t, testutil.Run(t, bin, "unshare", "-m", bin, "pivot", root, "sh", "-c", "exit 7"), 7)
	testutil.Refused(t, testutil.Run(t, bin, "unshare", "-m", bin, "pivot", root, "/nonexistent"), 127,
		"pivot: failed to execute /nonexistent: No such file or directory\n")
	testutil.Refused(t, testutil.Run(t, bin, "unshare", "-m", bin, "pivot", root, "/etc/passwd"), 126,
		"pivot: failed to execute /etc/passwd: Permission denied\n")
	// go is on the test's PATH on the host, not in the new root.
	testutil.Refused(t, testutil.Run(t, bin, "unshare", "-m", bin, "pivot", root, "go"), 127,
		"pivot: failed to execute go: No such file or directory\n")
	r := testutil.RunWith(t, testutil.Opts{Stdin: strings.NewReader("echo $0; ls /bin/busybox\n")}, bin, "unshare", "-m", bin, "pivot", root)
	testutil.Must(t, r, 0)
	if r.Stdout != "/bin/sh\n/bin/busybox\n" {
		t.Errorf("default program: %s", r)
	}
}

// TestRefusesHostNamespace: in the host's initial mount namespace pivot
// refuses before it mounts anything. (The bad --bind stops it before any
// mount too, should the refusal ever fail.)
func TestRefusesHostNamespace(t *testing.T) {
	bin, root := setup(t)
	before := hostMounts(t)
	r := testutil.Run(t, bin, "pivot", "--bind", "/nonexistent:/x", root, "/bin/true")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, "pivot: refusing to run in the host's initial mount namespace (") ||
		!strings.HasSuffix(r.Stderr, "): the mounts and the root switch would happen to the host itself; run pivot in a new one (unshare -m), or --force (in an initramfs, as switch_root)\n") {
		t.Errorf("got %s", r)
	}
	if after := hostMounts(t); after != before {
		t.Errorf("the mount table changed")
	}
}

// TestChrooted: from a chroot whose root is not a mount point, pivot_root
// fails with EINVAL (cause 5 of MECHANICS §13): pivot says so before it
// mounts anything.
func TestChrooted(t *testing.T) {
	bin, root := setup(t)
	inner := filepath.Join(root, "inner")
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	// The binary under test, in the chroot.
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "nsbox-test"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	r := testutil.Run(t, bin, "unshare", "-m", "/bin/sh", "-c",
		`mount -t proc proc "$1/proc" && exec chroot "$1" /nsbox-test pivot -v /inner /bin/true`, "sh", root)
	testutil.Refused(t, r, 1, "pivot: cannot switch the root from here: the current root is not a mount point: this process is chrooted into a directory, and pivot_root only moves mounts (cause 5)\n")
}

// TestVerbose: --verbose says each step and how the root is switched.
func TestVerbose(t *testing.T) {
	bin, root := setup(t)
	r := testutil.Run(t, bin, "unshare", "-m", bin, "pivot", "-v", "--no-sys", "--no-dev", "--no-devpts", "--no-shm", "--no-mqueue",
		"--no-run", "--propagation", "slave", root, "/bin/true")
	testutil.Must(t, r, 0)
	want := "pivot: made / rslave\n" +
		"pivot: bound " + root + " on itself (pivot_root needs a mount point)\n" +
		"pivot: mounted proc on /proc type proc (nosuid,nodev,noexec)\n" +
		"pivot: mounted tmpfs on /tmp type tmpfs (nosuid,nodev,mode=1777)\n" +
		"pivot: switching with pivot_root(\".\", \".\") and a lazy unmount of the old root\n"
	if r.Stderr != want || r.Stdout != "" {
		t.Errorf("got %s\nwant stderr:\n%s", r, want)
	}
}
