package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
