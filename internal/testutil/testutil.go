// Package testutil helps integration tests run the built nsbox binary in real
// namespaces, as root and as an unprivileged user, and check that each test
// left nothing behind.
//
// Typical use:
//
//	func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }
//
//	func TestUnshareUTS(t *testing.T) {
//		testutil.RequireRoot(t)
//		testutil.CheckNoLeaks(t) // first, so it runs after every other cleanup
//		bin := testutil.Binary(t)
//		r := testutil.Run(t, bin, "unshare", "-u", "hostname")
//		if r.Code != 0 { t.Fatalf("%v", r) }
//		u := testutil.Unprivileged(t)
//		r = testutil.RunAs(t, u, bin, "unshare", "-r", "id", "-u")
//	}
//
// # Running as an unprivileged user
//
// RunAs and Opts.User never edit the host's /etc. The command is started
// through a helper: the test binary re-executes itself (the helper code runs
// from this package's init function, keyed on an environment marker, so it
// works whether or not the test package uses Main) in a new, private mount
// namespace. The helper bind-mounts copies of /etc/passwd, /etc/group,
// /etc/subuid and /etc/subgid with the test user appended over the
// originals, drops to the user's uid/gid (setgroups([gid]), setgid,
// setuid), changes to the working directory and execs the command. The
// process ID returned by Start is the command's own PID. The bind mounts
// disappear with the mount namespace when the command and its descendants
// exit. setuid-root helpers such as newuidmap run inside that namespace, so
// they see the test user and its subordinate ranges.
//
// If one of those four files does not exist on the host, a bind mount is
// impossible without creating it, so the helper instead mounts a read-only
// overlay over /etc (the four files on top of the host's /etc) and moves the
// mounts found under /etc back on top of it.
//
// # Concurrency
//
// Binary, PureGoBinary, Run* and Start are safe for parallel tests.
// CheckNoLeaks compares process-wide (and host-wide) state, so a test using
// it must not run in parallel with tests that mount, create links or start
// processes.
package testutil

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Main runs the tests and then removes the binaries built by Binary and
// PureGoBinary. Use it as os.Exit(testutil.Main(m)) in TestMain. It is
// optional: without it everything works, but the build directory is left
// in os.TempDir.
func Main(m *testing.M) int {
	code := m.Run()
	removeBuildDir()
	return code
}

// RequireRoot skips the test unless it runs with effective uid 0.
func RequireRoot(t testing.TB) {
	t.Helper()
	if euid := os.Geteuid(); euid != 0 {
		t.Skipf("needs root: running as euid %d", euid)
	}
}

// ReadFile returns the contents of path, failing the test if it cannot be
// read.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	return string(b)
}

// NsInode returns the inode number of /proc/PID/ns/TYP (TYP is one of
// cgroup, ipc, mnt, net, pid, pid_for_children, time, time_for_children,
// user, uts), failing the test if it cannot be read. Two processes are in
// the same namespace when the inodes are equal.
func NsInode(t testing.TB, pid int, typ string) uint64 {
	t.Helper()
	var st unix.Stat_t
	p := filepath.Join("/proc", strconv.Itoa(pid), "ns", typ)
	if err := unix.Stat(p, &st); err != nil {
		t.Fatalf("NsInode: stat %s: %v", p, err)
	}
	return st.Ino
}

var utilLinux sync.Map // prog -> utilLinuxResult

type utilLinuxResult struct {
	path, why string
}

// HaveUtilLinux returns the path of the util-linux program prog (for
// example "unshare", "nsenter", "setpriv", "lsns"), and skips the test when
// prog is not in PATH or is not the util-linux implementation (busybox,
// say), judged by `prog --version`.
func HaveUtilLinux(t testing.TB, prog string) string {
	t.Helper()
	v, ok := utilLinux.Load(prog)
	if !ok {
		v, _ = utilLinux.LoadOrStore(prog, lookUtilLinux(prog))
	}
	res := v.(utilLinuxResult)
	if res.why != "" {
		t.Skipf("needs util-linux %s: %s", prog, res.why)
	}
	return res.path
}

func lookUtilLinux(prog string) utilLinuxResult {
	path, err := exec.LookPath(prog)
	if err != nil {
		return utilLinuxResult{why: err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return utilLinuxResult{why: path + " --version: " + err.Error()}
	}
	if !strings.Contains(string(out), "util-linux") {
		return utilLinuxResult{why: path + " is not util-linux: " + strings.TrimSpace(string(out))}
	}
	return utilLinuxResult{path: path}
}

// Uptime parses the first field of /proc/uptime as a program printed it.
func Uptime(t testing.TB, s string) float64 {
	t.Helper()
	f := strings.Fields(s)
	if len(f) == 0 {
		t.Fatalf("no uptime in %q", s)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatalf("uptime %q: %v", s, err)
	}
	return v
}
