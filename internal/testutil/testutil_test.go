package testutil

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// fakeTB records failures and cleanups instead of acting on them, so a test
// can assert that a helper fails its test. Everything else goes to the real
// T (logging, TempDir, Name).
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

type fakeFatal struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Error(args ...any) { f.Errorf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	panic(fakeFatal{})
}
func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// runCleanups runs the recorded cleanups, last first, like testing does.
func (f *fakeTB) runCleanups() {
	f.mu.Lock()
	cs := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

func (f *fakeTB) failures() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errors, "\n")
}

func shortSettle(t *testing.T) {
	old := leakSettle
	leakSettle = 300 * time.Millisecond
	t.Cleanup(func() { leakSettle = old })
}

func TestRunExitCodeAndOutput(t *testing.T) {
	r := Run(t, "sh", "-c", "echo out; echo err >&2; exit 3")
	if r.Code != 3 || r.Signal != 0 || r.TimedOut {
		t.Errorf("got %s, want exit 3", r.Status())
	}
	if r.Stdout != "out\n" || r.Stderr != "err\n" {
		t.Errorf("stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	if r := Run(t, "true"); r.Code != 0 || r.Signal != 0 {
		t.Errorf("true: %v", r)
	}
}

func TestRunSignal(t *testing.T) {
	r := Run(t, "sh", "-c", "kill -TERM $$")
	if r.Signal != int(syscall.SIGTERM) || r.Code != -1 {
		t.Errorf("got %s, want signal 15", r.Status())
	}
	if got, want := r.Status(), "signal 15 (terminated)"; got != want {
		t.Errorf("Status() = %q, want %q", got, want)
	}
}

func TestRunWithOpts(t *testing.T) {
	dir := t.TempDir()
	r := RunWith(t, Opts{
		Stdin: strings.NewReader("from stdin"),
		Env:   []string{"NSBOX_TESTUTIL_X=1", "NSBOX_TESTUTIL_X=2"},
		Dir:   dir,
	}, "sh", "-c", `read line; echo "$line|$NSBOX_TESTUTIL_X|$(pwd)"`)
	if want := "from stdin|2|" + dir + "\n"; r.Stdout != want || r.Code != 0 {
		t.Errorf("got %q (%s), want %q", r.Stdout, r.Status(), want)
	}
}

func TestRunTimeoutKillsGroup(t *testing.T) {
	f := &fakeTB{TB: t}
	start := time.Now()
	r := RunWith(f, Opts{Timeout: 300 * time.Millisecond}, "sh", "-c", "sleep 100 & echo $!; sleep 100")
	if !r.TimedOut || r.Signal != int(syscall.SIGKILL) {
		t.Errorf("got %s, want a timeout and SIGKILL", r.Status())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	if !strings.Contains(f.failures(), "timed out") {
		t.Errorf("timeout not reported: %q", f.failures())
	}
	bg, err := strconv.Atoi(strings.TrimSpace(r.Stdout))
	if err != nil {
		t.Fatalf("background pid: %q", r.Stdout)
	}
	// The background sleep was in the same process group and is gone (or a
	// zombie waiting for its new parent).
	waitGone(t, bg)
}

func TestRunReportsLeftoverGroupMembers(t *testing.T) {
	f := &fakeTB{TB: t}
	r := RunWith(f, Opts{}, "sh", "-c", "sleep 100 >/dev/null 2>&1 & echo $!")
	if r.Code != 0 {
		t.Fatalf("%v", r)
	}
	if !strings.Contains(f.failures(), "left processes in its process group") ||
		!strings.Contains(f.failures(), "sleep") {
		t.Errorf("leftover sleep not reported: %q", f.failures())
	}
	bg, _ := strconv.Atoi(strings.TrimSpace(r.Stdout))
	waitGone(t, bg)
}

// waitGone waits until pid is no longer a live process.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if p, err := parseStat(b); err == nil && p.state == "Z" {
			return
		}
	}
	t.Errorf("process %d still running", pid)
}

func TestRunStartFailure(t *testing.T) {
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(fakeFatal); !ok {
					panic(v)
				}
			}
		}()
		Run(f, "/nonexistent/nsbox-testutil")
	}()
	if !strings.Contains(f.failures(), "no such file") {
		t.Errorf("failures: %q", f.failures())
	}
}

func TestStartStop(t *testing.T) {
	CheckNoLeaks(t)
	p := Start(t, Opts{}, "sh", "-c", "echo ready; exec sleep 100")
	p.WaitOutput("ready", 10*time.Second)
	if NsInode(t, p.Pid(), "uts") != NsInode(t, os.Getpid(), "uts") {
		t.Errorf("sleep is in another uts namespace")
	}
	r := p.Stop()
	if r.Signal != int(syscall.SIGTERM) {
		t.Errorf("Stop: %s", r.Status())
	}
}

func TestStartKilledAtCleanup(t *testing.T) {
	var pid int
	t.Run("inner", func(t *testing.T) {
		p := Start(t, Opts{}, "sleep", "100")
		pid = p.Pid()
	})
	waitGone(t, pid)
}

func requireRunAs(t *testing.T) *User {
	t.Helper()
	RequireRoot(t)
	return Unprivileged(t)
}

func TestRunAs(t *testing.T) {
	u := requireRunAs(t)
	CheckNoLeaks(t)
	passwdBefore := ReadFile(t, "/etc/passwd")
	mountsBefore, err := readMounts("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}

	r := RunAs(t, u, "id", "-u")
	if got := strings.TrimSpace(r.Stdout); got != strconv.Itoa(u.UID) || r.Code != 0 {
		t.Errorf("id -u: %q, want %d\n%v", got, u.UID, r)
	}
	r = RunAs(t, u, "id")
	want := fmt.Sprintf("uid=%d(nsboxtest) gid=%d(nsboxtest) groups=%d(nsboxtest)\n", u.UID, u.GID, u.GID)
	if r.Stdout != want {
		t.Errorf("id: %q, want %q\n%v", r.Stdout, want, r)
	}
	r = RunAs(t, u, "getent", "passwd", "nsboxtest")
	want = fmt.Sprintf("nsboxtest:x:%d:%d:nsbox test user:%s:/bin/sh\n", u.UID, u.GID, u.Home)
	if r.Stdout != want || r.Code != 0 {
		t.Errorf("getent passwd: %q, want %q\n%v", r.Stdout, want, r)
	}
	r = RunAs(t, u, "cat", "/etc/subuid", "/etc/subgid")
	for _, line := range []string{
		fmt.Sprintf("nsboxtest:%d:%d\n", u.SubUIDStart, u.SubUIDCount),
		fmt.Sprintf("nsboxtest:%d:%d\n", u.SubGIDStart, u.SubGIDCount),
	} {
		if !strings.Contains(r.Stdout, line) {
			t.Errorf("subuid/subgid: %q lacks %q", r.Stdout, line)
		}
	}
	r = RunAs(t, u, "sh", "-c", `echo "$HOME $USER $(pwd)"; grep -E '^(Cap(Eff|Prm)|NoNewPrivs)' /proc/self/status`)
	if want := u.Home + " nsboxtest " + u.Home + "\n"; !strings.HasPrefix(r.Stdout, want) {
		t.Errorf("env: %q, want prefix %q", r.Stdout, want)
	}
	if !strings.Contains(r.Stdout, "CapEff:\t0000000000000000") || !strings.Contains(r.Stdout, "NoNewPrivs:\t0") {
		t.Errorf("privileges: %q", r.Stdout)
	}
	// The user cannot write the replaced files.
	if r := RunAs(t, u, "sh", "-c", "echo x >> /etc/passwd"); r.Code == 0 {
		t.Errorf("user could write /etc/passwd")
	}

	if got := ReadFile(t, "/etc/passwd"); got != passwdBefore {
		t.Errorf("host /etc/passwd changed")
	}
	if strings.Contains(ReadFile(t, "/etc/subuid"), "nsboxtest") {
		t.Errorf("host /etc/subuid mentions nsboxtest")
	}
	mountsAfter, err := readMounts("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if d := listDiff(mountsBefore, mountsAfter); d != "" {
		t.Errorf("host mount table changed:\n%s", d)
	}
}

func TestRunAsOverlay(t *testing.T) {
	u := requireRunAs(t)
	CheckNoLeaks(t)
	forceOverlay = true
	defer func() { forceOverlay = false }()
	r := RunAs(t, u, "sh", "-c", `id -un; getent group nsboxtest; grep nsboxtest /etc/subuid
		touch /etc/x 2>/dev/null && echo rw || echo ro
		grep -c ' /etc .* - overlay ' /proc/self/mountinfo`)
	want := fmt.Sprintf("nsboxtest\nnsboxtest:x:%d:\nnsboxtest:%d:65536\nro\n1\n", u.GID, u.SubUIDStart)
	if r.Stdout != want {
		t.Errorf("got %q, want %q\n%v", r.Stdout, want, r)
	}
	r = RunAs(t, u, "cat", "/etc/passwd", "/etc/hostname")
	if want := ReadFile(t, "/etc/passwd") + u.passwdLine() + ReadFile(t, "/etc/hostname"); r.Stdout != want {
		t.Errorf("got %q, want %q", r.Stdout, want)
	}
	if _, err := os.Stat("/etc/x"); err == nil {
		t.Errorf("/etc/x appeared on the host")
	}
}

// TestRunAsEtc: Opts.Etc lays a directory over /etc beside the user's
// files: its files keep their owner, mode and symbolic links; the user's
// passwd line is there too; the host's /etc is untouched.
func TestRunAsEtc(t *testing.T) {
	u := requireRunAs(t)
	CheckNoLeaks(t)
	etc := t.TempDir()
	os.Chmod(etc, 0o755)
	if err := os.MkdirAll(filepath.Join(etc, "nsboxtestdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "nsboxtestdir", "f"), []byte("policy\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(etc, "nsboxtestdir", "f"), 0o604)
	if err := os.Symlink("f", filepath.Join(etc, "nsboxtestdir", "l")); err != nil {
		t.Fatal(err)
	}
	r := RunWith(t, Opts{User: u, Etc: etc}, "sh", "-c", `cat /etc/nsboxtestdir/f; stat -c '%u %a' /etc/nsboxtestdir/f; readlink /etc/nsboxtestdir/l; id -un`)
	if want := "policy\n0 604\nf\nnsboxtest\n"; r.Stdout != want {
		t.Errorf("got %q, want %q\n%v", r.Stdout, want, r)
	}
	if _, err := os.Stat("/etc/nsboxtestdir"); err == nil {
		t.Errorf("/etc/nsboxtestdir appeared on the host")
	}
}

// The overlay over /etc must not hide mounts under /etc (docker-style bind
// mounts of /etc/hosts and friends). The test re-runs itself in a private
// mount namespace, bind-mounts a file over /etc/hostname there, and checks
// that the RunAs command still sees it.
func TestRunAsOverlayKeepsSubmounts(t *testing.T) {
	const inner = "NSBOX_TESTUTIL_INNER_SUBMOUNT"
	if os.Getenv(inner) == "" {
		requireRunAs(t)
		unshare := HaveUtilLinux(t, "unshare")
		CheckNoLeaks(t)
		r := RunWith(t, Opts{Env: []string{inner + "=1"}}, unshare, "-m", "--propagation", "private",
			os.Args[0], "-test.run=^TestRunAsOverlayKeepsSubmounts$", "-test.count=1", "-test.v")
		if r.Code != 0 || !strings.Contains(r.Stdout, "--- PASS: TestRunAsOverlayKeepsSubmounts") {
			t.Errorf("inner test: %v", r)
		}
		return
	}
	u := requireRunAs(t)
	fake := filepath.Join(sharedTempDir(t), "hostname")
	if err := os.WriteFile(fake, []byte("submount-kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(fake, "/etc/hostname", "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	forceOverlay = true
	defer func() { forceOverlay = false }()
	r := RunAs(t, u, "sh", "-c", "cat /etc/hostname; grep -c nsboxtest /etc/passwd")
	if r.Stdout != "submount-kept\n1\n" {
		t.Errorf("%v", r)
	}
}

func TestRunAsNewuidmap(t *testing.T) {
	u := requireRunAs(t)
	unshare := HaveUtilLinux(t, "unshare")
	if _, err := exec.LookPath("newuidmap"); err != nil {
		t.Skip("needs newuidmap (Debian package uidmap)")
	}
	CheckNoLeaks(t)
	// util-linux runs newuidmap/newgidmap, which accept only ranges
	// delegated in /etc/subuid and /etc/subgid to the calling user.
	r := RunAs(t, u, unshare, "--map-users=auto", "--map-groups=auto", "cat", "/proc/self/uid_map", "/proc/self/gid_map")
	if r.Code != 0 {
		t.Fatalf("%v", r)
	}
	got := strings.Fields(r.Stdout)
	want := []string{"0", strconv.Itoa(u.SubUIDStart), "65536", "0", strconv.Itoa(u.SubGIDStart), "65536"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("maps %q, want %q", got, want)
	}
}

func TestRunAsCopiesUnreachableBinary(t *testing.T) {
	u := requireRunAs(t)
	hello, err := buildPackage("./internal/testutil/testdata/hello", false)
	if err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(t.TempDir(), "hello") // under a 0700 directory
	b, err := os.ReadFile(hello)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(private, b, 0o700); err != nil {
		t.Fatal(err)
	}
	if userCanExec(private, u) {
		t.Fatalf("userCanExec(%s) = true", private)
	}
	if !userCanExec("/bin/sh", u) || !userCanExec(hello, u) {
		t.Fatalf("userCanExec false for /bin/sh or %s", hello)
	}
	r := RunAs(t, u, private)
	if r.Stdout != "hello from testdata\n" {
		t.Errorf("%v", r)
	}
}

func TestRunAsStartFailure(t *testing.T) {
	u := requireRunAs(t)
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(fakeFatal); !ok {
					panic(v)
				}
			}
		}()
		RunAs(f, u, "nsbox-testutil-no-such-program")
	}()
	if !strings.Contains(f.failures(), "nsbox-testutil-no-such-program") ||
		!strings.Contains(f.failures(), "not exist") {
		t.Errorf("failures: %q", f.failures())
	}
}

func TestStartAsUserPrivateMounts(t *testing.T) {
	u := requireRunAs(t)
	CheckNoLeaks(t)
	p := Start(t, Opts{User: u}, "sh", "-c", "echo ready; exec sleep 100")
	p.WaitOutput("ready", 10*time.Second)
	if NsInode(t, p.Pid(), "mnt") == NsInode(t, os.Getpid(), "mnt") {
		t.Errorf("RunAs command shares the test's mount namespace")
	}
	inside := ReadFile(t, fmt.Sprintf("/proc/%d/mountinfo", p.Pid()))
	if !strings.Contains(inside, " /etc/passwd ") {
		t.Errorf("no /etc/passwd mount inside:\n%s", inside)
	}
	if outside := ReadFile(t, "/proc/self/mountinfo"); strings.Contains(outside, " /etc/passwd ") {
		t.Errorf("/etc/passwd mount visible on the host:\n%s", outside)
	}
	st, err := os.Stat(fmt.Sprintf("/proc/%d", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := statOwner(st); o.uid != u.UID {
		t.Errorf("process owned by uid %d", o.uid)
	}
	if r := p.Stop(); r.Signal != int(syscall.SIGTERM) {
		t.Errorf("Stop: %s", r.Status())
	}
}

func TestCheckNoLeaksClean(t *testing.T) {
	shortSettle(t)
	f := &fakeTB{TB: t}
	CheckNoLeaks(f, t.TempDir())
	Run(t, "true")
	f.runCleanups()
	if s := f.failures(); s != "" {
		t.Errorf("false positive: %s", s)
	}
}

func TestCheckNoLeaksMount(t *testing.T) {
	RequireRoot(t)
	shortSettle(t)
	dir := t.TempDir()
	f := &fakeTB{TB: t}
	CheckNoLeaks(f)
	if err := unix.Mount("nsbox-leak", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	f.runCleanups()
	got := f.failures()
	if want := "+ added   " + dir + " tmpfs nsbox-leak"; !strings.Contains(got, want) {
		t.Errorf("failure %q does not contain %q", got, want)
	}
	t.Log(got)
}

func TestCheckNoLeaksZombie(t *testing.T) {
	shortSettle(t)
	f := &fakeTB{TB: t}
	CheckNoLeaks(f)
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip(err)
	}
	pid, err := syscall.ForkExec(truePath, []string{"true"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
	}()
	// Wait for it to exit; nobody waits for it, so it stays a zombie.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if p, err := parseStat(b); err == nil && p.state == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("child did not become a zombie")
		}
	}
	f.runCleanups()
	got := f.failures()
	if want := fmt.Sprintf("zombie children (exited, never waited for):\n  pid %d (true) state Z", pid); !strings.Contains(got, want) {
		t.Errorf("failure %q does not contain %q", got, want)
	}
	t.Log(got)
}

func TestCheckNoLeaksRunningChild(t *testing.T) {
	shortSettle(t)
	f := &fakeTB{TB: t}
	CheckNoLeaks(f)
	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	f.runCleanups()
	got := f.failures()
	if want := fmt.Sprintf("child processes still running:\n  pid %d (sleep) state S: sleep 100", cmd.Process.Pid); !strings.Contains(got, want) {
		t.Errorf("failure %q does not contain %q", got, want)
	}
}

func TestCheckNoLeaksDir(t *testing.T) {
	shortSettle(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gone"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fakeTB{TB: t}
	CheckNoLeaks(f, dir)
	os.Remove(filepath.Join(dir, "gone"))
	if err := os.WriteFile(filepath.Join(dir, "pin-net"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f.runCleanups()
	got := f.failures()
	for _, want := range []string{"files in " + dir + ":", "+ added   pin-net", "- removed gone"} {
		if !strings.Contains(got, want) {
			t.Errorf("failure %q does not contain %q", got, want)
		}
	}
}

func TestCheckNoLeaksSettles(t *testing.T) {
	// A child that exits and is waited for shortly after the test ends is
	// not a leak.
	f := &fakeTB{TB: t}
	CheckNoLeaks(f)
	cmd := exec.Command("sleep", "0.3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait()
	f.runCleanups()
	if s := f.failures(); s != "" {
		t.Errorf("false positive: %s", s)
	}
}

func TestParseMountinfo(t *testing.T) {
	in := "36 35 98:0 /mnt1 /mnt\\040with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n" +
		"37 26 0:44 / /run/netns rw shared:5 - tmpfs tmpfs rw\n" +
		"38 26 0:45 / /x rw - nsfs nsfs rw\n"
	got, err := parseMountinfo([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []mountEntry{
		{"/mnt with space", "ext3", "/dev/root"},
		{"/run/netns", "tmpfs", "tmpfs"},
		{"/x", "nsfs", "nsfs"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := parseMountinfo([]byte("garbage line\n")); err == nil {
		t.Errorf("no error for a malformed line")
	}
}

func TestParseStat(t *testing.T) {
	in := "4242 (we ird) (x) Z 77 4242 4242 0 -1 4194564 85 0 0 0 0 0 0 0 20 0 1 0 123456 0 0\n"
	p, err := parseStat([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := proc{pid: 4242, ppid: 77, pgrp: 4242, state: "Z", comm: "we ird) (x", start: 123456}
	if p != want {
		t.Errorf("got %+v, want %+v", p, want)
	}
}

func TestListDiff(t *testing.T) {
	got := listDiff([]string{"a", "b", "b"}, []string{"b", "c"})
	want := "  - removed a\n  - removed b\n  + added   c\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"A=1", helperEnv + "={}", "B=2"}, []string{"A=3", "C=4"})
	want := []string{"A=3", "B=2", "C=4"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFreeSubRange(t *testing.T) {
	p := filepath.Join(t.TempDir(), "subuid")
	os.WriteFile(p, []byte("alice:100000:65536\nbob:200000:65536\n# c\ncarol:265536:1\n"), 0o644)
	got, err := freeSubRange(p, 52000)
	if err != nil || got != 200000+2*65536 {
		t.Errorf("got %d, %v; want %d", got, err, 200000+2*65536)
	}
	if got, err := freeSubRange(filepath.Join(t.TempDir(), "missing"), 52000); err != nil || got != 200000 {
		t.Errorf("missing file: got %d, %v", got, err)
	}
}

func TestUnprivileged(t *testing.T) {
	u := requireRunAs(t)
	if u.Name != "nsboxtest" || u.UID < 52000 || u.GID != u.UID || u.SubUIDCount != 65536 {
		t.Errorf("%+v", u)
	}
	st, err := os.Stat(u.Home)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := statOwner(st); o.uid != u.UID || o.gid != u.GID {
		t.Errorf("home owned by %d:%d", o.uid, o.gid)
	}
	if u2 := Unprivileged(t); u2.UID != u.UID || u2.SubUIDStart != u.SubUIDStart {
		t.Errorf("not deterministic: %+v vs %+v", u, u2)
	}
}

func TestNsInode(t *testing.T) {
	p := Start(t, Opts{}, "sleep", "100")
	if a, b := NsInode(t, p.Pid(), "net"), NsInode(t, os.Getpid(), "net"); a != b || a == 0 {
		t.Errorf("net inodes %d, %d", a, b)
	}
	link, err := os.Readlink("/proc/self/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("uts:[%d]", NsInode(t, os.Getpid(), "uts")); link != want {
		t.Errorf("readlink %q, want %q", link, want)
	}
}

func TestHaveUtilLinux(t *testing.T) {
	if p := HaveUtilLinux(t, "nsenter"); !filepath.IsAbs(p) {
		t.Errorf("path %q", p)
	}
	var skipped bool
	t.Run("missing", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		HaveUtilLinux(t, "nsbox-testutil-no-such-program")
	})
	if !skipped {
		t.Errorf("missing program did not skip")
	}
	t.Run("not util-linux", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		HaveUtilLinux(t, "true")
	})
	if !skipped {
		t.Errorf("non-util-linux program did not skip")
	}
}

func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("x\n"), 0o644)
	if got := ReadFile(t, p); got != "x\n" {
		t.Errorf("got %q", got)
	}
}

func TestBuildStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	for _, cgo := range []bool{true, false} {
		p, err := buildPackage("./internal/testutil/testdata/hello", cgo)
		if err != nil {
			t.Fatal(err)
		}
		if p2, _ := buildPackage("./internal/testutil/testdata/hello", cgo); p2 != p {
			t.Errorf("not cached: %s, %s", p, p2)
		}
		f, err := elf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s (cgo=%v) is dynamically linked", p, cgo)
			}
		}
		f.Close()
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o755 {
			t.Errorf("%s mode %v", p, st.Mode())
		}
		if r := Run(t, p); r.Stdout != "hello from testdata\n" {
			t.Errorf("%v", r)
		}
	}
}

func TestBinaryFromEnv(t *testing.T) {
	t.Setenv("NSBOX_BIN", "/bin/true")
	t.Setenv("NSBOX_PUREGO_BIN", "/bin/false")
	if got := Binary(t); got != "/bin/true" {
		t.Errorf("Binary = %q", got)
	}
	if got := PureGoBinary(t); got != "/bin/false" {
		t.Errorf("PureGoBinary = %q", got)
	}
}

func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nsbox")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(root, "cmds/nsbox/*.go")); len(m) == 0 {
		t.Skip("cmds/nsbox has no Go files yet")
	}
	for _, bin := range []string{Binary(t), PureGoBinary(t)} {
		if r := Run(t, bin, "--list"); r.Code != 0 {
			t.Errorf("%s --list: %v", bin, r)
		}
	}
}

// TestNetnsRunDir: the /run/netns mount that appears once (iproute2's
// set-up) is not a leak; a second one stacked on it, or any other, is.
func TestNetnsRunDir(t *testing.T) {
	run := "/run/netns ext4 /dev/vda"
	other := "/tmp/x tmpfs tmpfs"
	for _, tc := range []struct {
		before, after []string
		want          string
	}{
		{nil, []string{run}, ""},
		{[]string{run}, []string{run, run}, "+ added   " + run},
		{nil, []string{run, run}, "+ added   " + run},
		{nil, []string{run, other}, "+ added   " + other},
		{[]string{run}, nil, "- removed " + run},
	} {
		got := strings.TrimSpace(listDiff(tc.before, netnsRunDir(tc.before, tc.after)))
		if got != tc.want {
			t.Errorf("before %q, after %q: diff %q, want %q", tc.before, tc.after, got, tc.want)
		}
	}
}
