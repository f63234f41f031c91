package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// SetuidCopy is a set-user-ID root copy of bin called nsbox, in a new
// directory every user reaches (a copy made for the user by RunAs would
// lose the bit), with each of names linked to it (symbolic links). It is
// removed at cleanup. It is how "make install-setuid" installs setuidmap
// and mkbridge, in a directory of the test's own.
func SetuidCopy(t testing.TB, bin string, names ...string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nsbox-privileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	nsbox := filepath.Join(dir, "nsbox")
	if err := os.WriteFile(nsbox, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(nsbox, os.ModeSetuid|0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.Symlink("nsbox", filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// CapsCopy is SetuidCopy with file capabilities caps (setcap's text,
// e.g. "cap_net_admin,cap_sys_admin+ep") instead of the set-user-ID bit,
// as "make install-setcap" installs them.
func CapsCopy(t testing.TB, bin, caps string, names ...string) string {
	t.Helper()
	setcap, err := exec.LookPath("setcap")
	if err != nil {
		t.Fatalf("setcap not found (Debian libcap2-bin; make deps installs it): %v", err)
	}
	dir := SetuidCopy(t, bin, names...)
	nsbox := filepath.Join(dir, "nsbox")
	if err := os.Chmod(nsbox, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(setcap, caps, nsbox).CombinedOutput(); err != nil {
		t.Fatalf("setcap: %v: %s", err, out)
	}
	return dir
}

// ThreadCaps returns the Uid, CapPrm and CapEff lines of a
// /proc/.../status file (fields joined by one space): what a privileged
// applet's drop left a thread.
func ThreadCaps(path string) (uid, prm, eff string) {
	b, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "Uid:":
			uid = strings.Join(f[1:], " ")
		case "CapPrm:":
			prm = f[1]
		case "CapEff:":
			eff = f[1]
		}
	}
	return
}

// setuidChildEnv marks the child of SetuidChild (the test user's uid).
const setuidChildEnv = "NSBOX_TESTUTIL_SETUID_CHILD"

// SetuidChild runs child in a new process of the test binary (the test
// run again there alone) made to look like a set-user-ID root execution
// by the test user (see actSetuid), and fails the test when child returns
// an error. A test that calls it does nothing else.
func SetuidChild(t *testing.T, child func(uid int) error) {
	if us := os.Getenv(setuidChildEnv); us != "" {
		uid, _ := strconv.Atoi(us)
		err := actSetuid(uid)
		if err == nil {
			err = child(uid)
		}
		if err != nil {
			fmt.Printf("FAIL %v\n", err)
			os.Exit(1)
		}
		fmt.Println("child ok")
		os.Exit(0)
	}
	RequireRoot(t)
	u := Unprivileged(t)
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), setuidChildEnv+"="+strconv.Itoa(u.UID))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "child ok\n") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// actSetuid makes this process look like a set-user-ID root execution by
// user uid: this thread locked, four other threads kept busy (a drop must
// reach them), the real uid uid and the effective and saved ones 0.
func actSetuid(uid int) error {
	runtime.LockOSThread()
	for i := 0; i < 4; i++ {
		go func() {
			for {
				runtime.Gosched()
			}
		}()
	}
	return syscall.Setresuid(uid, 0, 0)
}

// CheckThreads checks that every id of every thread is uid, that the
// calling thread's permitted and effective capabilities are prm and eff
// (hex, as /proc prints them), and that every other thread has none.
func CheckThreads(uid int, prm, eff string) error {
	ids := fmt.Sprintf("%d %d %d %d", uid, uid, uid, uid)
	if u, p, e := ThreadCaps("/proc/thread-self/status"); u != ids || p != prm || e != eff {
		return fmt.Errorf("this thread: Uid %s CapPrm %s CapEff %s", u, p, e)
	}
	tids, _ := filepath.Glob("/proc/self/task/*/status")
	if len(tids) < 2 {
		return fmt.Errorf("only %d threads", len(tids))
	}
	for _, p := range tids {
		if p == fmt.Sprintf("/proc/self/task/%d/status", unix.Gettid()) {
			continue
		}
		if u, pr, e := ThreadCaps(p); u != ids || pr != "0000000000000000" || e != "0000000000000000" {
			return fmt.Errorf("%s: Uid %s CapPrm %s CapEff %s", p, u, pr, e)
		}
	}
	return nil
}
