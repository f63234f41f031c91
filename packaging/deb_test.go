package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nsbox/nsbox/internal/testutil"
)

// debDirs are the directories the package puts files in, or that hold
// what it must never touch: the leak check compares their entries before
// the install and after the removal.
var debDirs = []string{
	"/usr/bin", "/usr/libexec", "/usr/lib/cni", "/usr/share/man/man1", "/usr/share/man/man8",
	"/usr/share/doc", "/usr/share/bash-completion/completions", "/usr/share/zsh/vendor-completions",
	"/usr/share/fish/vendor_completions.d", "/var/lib/dpkg/info",
}

// TestDeb installs the package with dpkg -i on this machine, beside
// util-linux: /usr/bin/unshare and its page stay util-linux's, the applets
// are in /usr/libexec/nsbox, the pages are nsbox-*, the CNI plugin is in
// Debian's /usr/lib/cni. It runs the demo with the installed binary, then
// dpkg -r removes the package and nothing of it is left, dpkg's records
// included. The host is left as it was: the test does not run where an
// nsbox is installed already.
func TestDeb(t *testing.T) {
	testutil.RequireRoot(t)
	for _, tool := range []string{"dpkg", "dpkg-query"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: not a Debian system", tool)
		}
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${Status}", "nsbox").Output(); err == nil {
		t.Skipf("a package nsbox is known to dpkg (%s): not touching it", out)
	}
	for _, p := range []string{"/usr/bin/nsbox", "/usr/libexec/nsbox", "/usr/lib/cni/nsbox-bridge", "/usr/share/doc/nsbox"} {
		if _, err := os.Lstat(p); err == nil {
			t.Skipf("%s exists (an nsbox installed by hand?): not touching it", p)
		}
	}
	rootfs := testutil.Rootfs(t)
	r := builtReleases(t)[0]
	if !r.deb {
		t.Skip("no dpkg-deb: the package was not built")
	}
	deb := filepath.Join(r.dist, "nsbox_"+debVersion(r.version)+"_amd64.deb")
	testutil.CheckNoLeaks(t, debDirs...)
	owner := func(path string) string {
		out, _ := exec.Command("dpkg-query", "-S", path).Output()
		pkg, _, _ := strings.Cut(string(out), ":")
		return pkg
	}
	unshareOwner, pageOwner := owner("/usr/bin/unshare"), owner("/usr/share/man/man1/unshare.1.gz")

	testutil.Must(t, testutil.RunWith(t, testutil.Opts{Timeout: 2 * time.Minute}, "dpkg", "-i", deb), 0)
	removed := false
	t.Cleanup(func() {
		if !removed {
			exec.Command("dpkg", "--purge", "nsbox").Run()
		}
	})
	list := testutil.Run(t, "dpkg-query", "-L", "nsbox")
	testutil.Must(t, list, 0)
	for _, want := range []string{"/usr/bin/nsbox", "/usr/libexec/nsbox/unshare", "/usr/libexec/nsbox/lsns",
		"/usr/lib/cni/nsbox-bridge", "/usr/share/man/man1/nsbox.1.gz", "/usr/share/man/man1/nsbox-unshare.1.gz",
		"/usr/share/man/man8/nsbox-lsns.8.gz", "/usr/share/bash-completion/completions/nsbox",
		"/usr/share/zsh/vendor-completions/_nsbox", "/usr/share/fish/vendor_completions.d/nsbox.fish",
		"/usr/share/doc/nsbox/copyright"} {
		if !strings.Contains(list.Stdout, "\n"+want+"\n") {
			t.Errorf("the package has no %s:\n%s", want, list.Stdout)
		}
	}
	for _, bad := range []string{"/usr/bin/unshare", "/usr/bin/nsenter", "/usr/bin/lsns", "/man1/unshare.1", "/man8/lsns.8", "/usr/local/"} {
		if strings.Contains(list.Stdout, bad) {
			t.Errorf("the package has %s, which is util-linux's or not its own:\n%s", bad, list.Stdout)
		}
	}
	if owner("/usr/bin/unshare") != unshareOwner || owner("/usr/share/man/man1/unshare.1.gz") != pageOwner {
		t.Errorf("util-linux's files changed hands: unshare %q, unshare.1.gz %q", owner("/usr/bin/unshare"), owner("/usr/share/man/man1/unshare.1.gz"))
	}

	// The installed binary, its applet links and the CNI plugin work.
	v := testutil.Run(t, "/usr/bin/nsbox", "--version")
	if !strings.HasPrefix(v.Stdout, "nsbox "+r.version+"\n") {
		t.Errorf("/usr/bin/nsbox --version: %s", v)
	}
	u := testutil.Run(t, "/usr/libexec/nsbox/unshare", "-u", "--hostname", "deb", "hostname")
	if u.Code != 0 || u.Stdout != "deb\n" {
		t.Errorf("/usr/libexec/nsbox/unshare: %s", u)
	}
	cni := testutil.RunWith(t, testutil.Opts{Env: []string{"CNI_COMMAND=VERSION"}, Stdin: strings.NewReader(`{"cniVersion":"1.0.0"}`)}, "/usr/lib/cni/nsbox-bridge")
	if cni.Code != 0 || !strings.Contains(cni.Stdout, `"supportedVersions"`) {
		t.Errorf("/usr/lib/cni/nsbox-bridge VERSION: %s", cni)
	}
	if out, err := exec.Command("man", "-w", "nsbox-unshare").Output(); err == nil && strings.TrimSpace(string(out)) != "/usr/share/man/man1/nsbox-unshare.1.gz" {
		t.Errorf("man -w nsbox-unshare: %q", out)
	}
	demo := testutil.RunWith(t, testutil.Opts{Timeout: 2 * time.Minute, Env: []string{"TMPDIR=" + t.TempDir()}},
		"bash", filepath.Join(r.tree, "docs", "demo.sh"), "/usr/bin/nsbox", rootfs)
	if demo.Code != 0 || !strings.Contains(demo.Stdout, "\ndemo: OK\n") || !strings.Contains(demo.Stdout, "\nnothing is left: ") {
		t.Errorf("the demo with /usr/bin/nsbox: %s", demo)
	}

	// dpkg -r: every file of the package goes, and dpkg forgets it.
	testutil.Must(t, testutil.RunWith(t, testutil.Opts{Timeout: 2 * time.Minute}, "dpkg", "-r", "nsbox"), 0)
	removed = true
	for _, p := range strings.Split(strings.TrimSpace(list.Stdout), "\n") {
		if p == "/." || !strings.Contains(p, "nsbox") {
			continue // a directory shared with others: /usr, /usr/share/man/man1...
		}
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("dpkg -r left %s", p)
		}
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${Status}", "nsbox").CombinedOutput(); err == nil {
		t.Errorf("dpkg still knows nsbox after dpkg -r: %s", out)
	}
}
