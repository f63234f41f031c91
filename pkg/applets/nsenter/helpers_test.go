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

// TestMain runs the tests, or (with helperEnv set) one of the helper
// programs the tests start from this binary (helper_test.go).
func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode, os.Args[1:]))
	}
	os.Exit(testutil.Main(m))
}

// build is one nsbox binary under test.
type build struct {
	name string // "cgo" or "purego"
	bin  string
	cgo  bool // has the C constructor: can enter user and time namespaces
}

func (b build) nsenter(args ...string) []string {
	return append([]string{b.bin, "nsenter"}, args...)
}

// builds runs f once per build: the static cgo build (with the C
// constructor) and the CGO_ENABLED=0 build.
func builds(t *testing.T, f func(t *testing.T, b build)) {
	t.Helper()
	for _, b := range allBuilds(t) {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

func allBuilds(t *testing.T) []build {
	t.Helper()
	return []build{
		{"cgo", testutil.Binary(t), true},
		{"purego", testutil.PureGoBinary(t), false},
	}
}

// needsCgo is what the pure-Go build says when asked to enter a user or
// time namespace.
const needsCgo = "nsenter: entering user and time namespaces needs the cgo build (a multi-threaded process gets setns: user=EINVAL, time=EUSERS)\n"

// expect checks a result: stdout, stderr, exit code, no signal.
func expect(t *testing.T, r testutil.Result, out, errOut string, code int) {
	t.Helper()
	if r.Stdout != out || r.Stderr != errOut || r.Code != code || r.Signal != 0 || r.TimedOut {
		t.Errorf("want exit %d, stdout %q, stderr %q; got %v", code, out, errOut, r)
	}
}

// expectCgo is expect for a case that enters a user or time namespace:
// the pure-Go build must refuse it with its message instead.
func expectCgo(t *testing.T, b build, r testutil.Result, out, errOut string, code int) {
	t.Helper()
	if b.cgo {
		expect(t, r, out, errOut, code)
	} else {
		expect(t, r, "", needsCgo, 1)
	}
}

// nsLink is readlink /proc/PID/ns/TYP ("net:[4026531840]").
func nsLink(t *testing.T, pid int, typ string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, typ))
	if err != nil {
		t.Fatalf("%v", err)
	}
	return l
}

// nsLinks are the lines "readlink /proc/self/ns/T..." prints for pid.
func nsLinks(t *testing.T, pid int, types ...string) string {
	t.Helper()
	var b strings.Builder
	for _, typ := range types {
		b.WriteString(nsLink(t, pid, typ) + "\n")
	}
	return b.String()
}

// readlinkNs is a shell command printing the program's namespaces of types.
func readlinkNs(types ...string) string {
	var paths []string
	for _, typ := range types {
		paths = append(paths, "/proc/self/ns/"+typ)
	}
	return "readlink " + strings.Join(paths, " ")
}

var allTypes = []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}

// sharedDir is a fresh directory every user can traverse (t.TempDir and its
// parent are 0700).
func sharedDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{d, filepath.Dir(d)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// startTarget starts `nsbox unshare --pid-file F ARGS... sh -c 'SCRIPT; echo
// ready; exec sleep 600'` (the cgo build, as o.User if set) and returns the
// PID of the program once it is ready: the namespaces' process. It is
// killed at cleanup (call testutil.CheckNoLeaks before).
func startTarget(t *testing.T, o testutil.Opts, args []string, script string) int {
	t.Helper()
	dir := sharedDir(t)
	if o.User != nil {
		if err := os.Chown(dir, o.User.UID, o.User.GID); err != nil {
			t.Fatal(err)
		}
	}
	pidFile := filepath.Join(dir, "pid")
	if script != "" {
		script += "; "
	}
	argv := append([]string{testutil.Binary(t), "unshare", "--pid-file", pidFile}, args...)
	argv = append(argv, "sh", "-c", script+"echo ready; exec sleep 600")
	p := testutil.Start(t, o, argv...)
	p.WaitOutput("ready", 20*time.Second)
	pid, err := strconv.Atoi(strings.TrimSpace(testutil.ReadFile(t, pidFile)))
	if err != nil || pid <= 0 {
		t.Fatalf("pid file %s: %v", pidFile, err)
	}
	// "ready" comes just before the exec of sleep: wait for the exec to be
	// over (during it, /proc/PID/environ and the like read empty).
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		if testutil.ExecComm(pid) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("target %d never ran sleep", pid)
		}
	}
	return pid
}

// pinDir makes a private bind mount of a fresh directory (a mount
// namespace can only be pinned under a private mount) and undoes it, with
// every pin made in it, at cleanup.
func pinDir(t *testing.T) string {
	t.Helper()
	dir := sharedDir(t)
	if r := testutil.Run(t, "mount", "--bind", dir, dir); r.Code != 0 {
		t.Fatalf("bind mount: %v", r)
	}
	t.Cleanup(func() {
		for i := 0; i < 20; i++ {
			if unix.Unmount(dir, unix.MNT_DETACH) != nil {
				break
			}
		}
	})
	if r := testutil.Run(t, "mount", "--make-private", dir); r.Code != 0 {
		t.Fatalf("make-private: %v", r)
	}
	return dir
}

// pinAll pins a new namespace of every type but pid into dir with util-linux
// unshare (its user namespace maps root, its time namespace has a boottime
// offset of 100000 s and its host name is "pinned") and returns the names.
func pinAll(t *testing.T, dir string) []string {
	t.Helper()
	ul := testutil.HaveUtilLinux(t, "unshare")
	names := []string{"user", "cgroup", "ipc", "uts", "net", "mnt", "time"}
	args := []string{ul}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		opt := n
		if n == "mnt" {
			opt = "mount"
		}
		args = append(args, "--"+opt+"="+filepath.Join(dir, n))
	}
	args = append(args, "-r", "--fork", "--boottime", "100000", "hostname", "pinned")
	if r := testutil.Run(t, args...); r.Code != 0 {
		t.Fatalf("pinning: %v", r)
	}
	return names
}

// fileIno is the inode of a namespace file, as readlink spells it.
func fileNs(t *testing.T, typ, path string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s:[%d]", typ, st.Ino)
}

// procState is the state letter of /proc/PID/stat ("" when gone).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndex(s, ")")+1:])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// waitState waits until pid is in state st.
func waitState(t *testing.T, pid int, st string) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if procState(pid) == st {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("pid %d never reached state %s (now %q)", pid, st, procState(pid))
}

// cgroup2 is the mount point of the cgroup v2 hierarchy, "" if none.
func cgroup2(t *testing.T) string {
	t.Helper()
	for _, l := range strings.Split(testutil.ReadFile(t, "/proc/self/mountinfo"), "\n") {
		left, right, ok := strings.Cut(l, " - ")
		if ok && strings.HasPrefix(right, "cgroup2 ") {
			if f := strings.Fields(left); len(f) >= 5 {
				return f[4]
			}
		}
	}
	return ""
}
