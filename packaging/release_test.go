package packaging

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nsbox/nsbox/internal/testutil"
)

var scratch string // the copies of the tree, removed by TestMain

func TestMain(m *testing.M) {
	code := testutil.Main(m)
	if scratch != "" {
		os.RemoveAll(scratch)
	}
	os.Exit(code)
}

// A release is the out/dist of one copy of the working tree after "make
// dist deb", and what the Makefile said of it.
type release struct {
	tree, dist string
	version    string // VERSION: git describe's, as the Makefile has it
	epoch      int64  // SOURCE_DATE_EPOCH: the commit's time
	deb        bool   // make deb was run: dpkg-deb is here
}

var (
	releasesOnce sync.Once
	releases     [2]release
	releasesErr  error
	releasesTook time.Duration
)

// builtReleases builds the release files in two copies of the working
// tree, once per test process, and returns them; the test is skipped
// when a tool the build needs is missing.
func builtReleases(t *testing.T) [2]release {
	t.Helper()
	for _, tool := range []string{"make", "git", "musl-gcc", "tar", "gzip", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: make dist and make deb need it (make deps installs what is missing)", tool)
		}
	}
	releasesOnce.Do(func() {
		start := time.Now()
		releases, releasesErr = buildReleases()
		releasesTook = time.Since(start)
	})
	if releasesErr != nil {
		t.Fatal(releasesErr)
	}
	return releases
}

func buildReleases() (rs [2]release, err error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return rs, err
	}
	if scratch, err = os.MkdirTemp("", "nsbox-release-"); err != nil {
		return rs, err
	}
	targets := []string{"dist"}
	_, err = exec.LookPath("dpkg-deb")
	deb := err == nil
	if deb {
		targets = append(targets, "deb")
	}
	// Two paths of different lengths: nothing of the path may reach the
	// bytes. The second is a copy of the first, so that both are the same
	// sources even if the tree changes meanwhile.
	trees := [2]string{filepath.Join(scratch, "a/nsbox"), filepath.Join(scratch, "copy-b/src/nsbox")}
	for i, tree := range trees {
		src := root
		if i > 0 {
			src = trees[0]
		}
		if err := copyTree(src, tree); err != nil {
			return rs, err
		}
	}
	for i, tree := range trees {
		if out, err := run(tree, append([]string{"make", "--no-print-directory"}, targets...)...); err != nil {
			return rs, fmt.Errorf("make %s in %s: %v\n%s", strings.Join(targets, " "), tree, err, out)
		}
		vars, err := run(tree, "make", "--no-print-directory", "-s", "-f", "Makefile", "-f", "-", "print-vars")
		if err != nil {
			return rs, fmt.Errorf("the Makefile's variables: %v\n%s", err, vars)
		}
		r := release{tree: tree, dist: filepath.Join(tree, "out", "dist"), deb: deb}
		if _, err := fmt.Sscanf(vars, "%s %d", &r.version, &r.epoch); err != nil {
			return rs, fmt.Errorf("the Makefile's variables: %q: %v", vars, err)
		}
		rs[i] = r
	}
	return rs, nil
}

// copyTree makes dst a clone of src's repository at src's commit, with
// src's uncommitted changes on top: the working tree as it is, in a
// checkout of its own.
func copyTree(src, dst string) error {
	rev, err := run(src, "git", "rev-parse", "HEAD")
	if err != nil {
		return fmt.Errorf("git rev-parse: %v: %s", err, rev)
	}
	if out, err := run(src, "git", "clone", "-q", "--shared", "--no-checkout", src, dst); err != nil {
		return fmt.Errorf("git clone: %v: %s", err, out)
	}
	if out, err := run(dst, "git", "checkout", "-q", "--detach", strings.TrimSpace(rev)); err != nil {
		return fmt.Errorf("git checkout: %v: %s", err, out)
	}
	changed, err := run(src, "git", "ls-files", "-z", "-m", "-o", "--exclude-standard")
	if err != nil {
		return fmt.Errorf("git ls-files: %v: %s", err, changed)
	}
	for _, f := range strings.Split(strings.TrimSuffix(changed, "\x00"), "\x00") {
		if f == "" {
			continue
		}
		if err := copyFile(filepath.Join(src, f), filepath.Join(dst, f)); err != nil {
			return err
		}
	}
	deleted, _ := run(src, "git", "ls-files", "-z", "-d")
	for _, f := range strings.Split(strings.TrimSuffix(deleted, "\x00"), "\x00") {
		if f != "" {
			os.Remove(filepath.Join(dst, f))
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	st, err := os.Lstat(src)
	if err != nil {
		if os.IsNotExist(err) {
			return os.Remove(dst) // deleted: -m lists it too
		}
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, st.Mode().Perm())
}

// run runs argv in dir, with the environment of a user's shell: no
// variables of an enclosing make (make test runs this test), none of the
// Makefile's own.
func run(dir string, argv ...string) (string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		switch k {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "VERSION", "SOURCE_DATE_EPOCH", "DESTDIR", "PREFIX", "APPLETDIR":
			continue
		}
		cmd.Env = append(cmd.Env, e)
	}
	if argv[0] == "make" && slices.Contains(argv, "print-vars") {
		cmd.Stdin = strings.NewReader("print-vars:\n\t@echo '$(VERSION)' '$(SOURCE_DATE_EPOCH)'\n")
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestReproducible: built twice from the same commit, at two paths, the
// archives, SHA256SUMS and the package (where dpkg-deb is) are the same
// bytes.
func TestReproducible(t *testing.T) {
	rs := builtReleases(t)
	t.Logf("the release files, twice: %v", releasesTook.Round(time.Millisecond))
	var names [2][]string
	for i, r := range rs {
		ents, err := os.ReadDir(r.dist)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			names[i] = append(names[i], e.Name())
		}
	}
	want := []string{
		"SHA256SUMS",
		"nsbox-" + rs[0].version + "-linux-amd64.tar.gz",
		"nsbox-" + rs[0].version + "-linux-arm64.tar.gz",
	}
	if rs[0].deb {
		want = append(want, "nsbox_"+debVersion(rs[0].version)+"_amd64.deb")
	} else {
		t.Log("no dpkg-deb: the Debian package is not built")
	}
	slices.Sort(want)
	if !slices.Equal(names[0], want) || !slices.Equal(names[1], want) {
		t.Fatalf("out/dist holds %q and %q, want %q", names[0], names[1], want)
	}
	for _, n := range want {
		a, err := os.ReadFile(filepath.Join(rs[0].dist, n))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(rs[1].dist, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the two builds (%d and %d bytes)", n, len(a), len(b))
		}
	}
}

// debVersion is the Makefile's DEB_VERSION of a VERSION.
func debVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexByte(v, '.'); i <= 0 || strings.Trim(v[:i], "0123456789") != "" {
		v = "0~" + v
	}
	for _, pre := range []string{"rc", "alpha", "beta"} {
		v = strings.ReplaceAll(v, "-"+pre, "~"+pre)
	}
	return strings.ReplaceAll(v, "-", "+")
}

// TestArchive: what a user downloads checks against SHA256SUMS and holds
// the binary, the pages, the completions, the licences, in name order,
// owned by 0:0, at the commit's time; the amd64 binary runs and says the
// version; the arm64 one is a static aarch64 executable.
func TestArchive(t *testing.T) {
	r := builtReleases(t)[0]
	if out, err := run(r.dist, "sha256sum", "--strict", "-c", "SHA256SUMS"); err != nil || strings.Count(out, ": OK\n") != 2 {
		t.Errorf("sha256sum -c SHA256SUMS: %v\n%s", err, out)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			name := "nsbox-" + r.version + "-linux-" + arch
			files := readArchive(t, filepath.Join(r.dist, name+".tar.gz"), r.epoch)
			for _, f := range []string{"nsbox", "LICENSE", "README.md", "man/man1/nsbox.1", "man/man1/nsbox-unshare.1",
				"man/man1/nsbox-nsenter.1", "man/man8/nsbox-lsns.8", "man/man8/nsbox-bridge.8",
				"completion/nsbox.bash", "completion/_nsbox", "completion/nsbox.fish",
				"licenses/go.LICENSE", "licenses/golang.org_x_sys.LICENSE"} {
				if _, ok := files[name+"/"+f]; !ok {
					t.Errorf("%s.tar.gz has no %s", name, f)
				}
			}
			for f := range files {
				if strings.HasSuffix(f, "/unshare.1") || strings.HasSuffix(f, "/lsns.8") {
					t.Errorf("%s: a page under util-linux's name", f)
				}
			}
			bin := files[name+"/nsbox"]
			e, err := elf.NewFile(bytes.NewReader(bin))
			if err != nil {
				t.Fatalf("nsbox: %v", err)
			}
			if want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]; e.Machine != want {
				t.Errorf("nsbox is for %v, want %v", e.Machine, want)
			}
			for _, p := range e.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("nsbox is dynamically linked")
				}
			}
			if arch != "amd64" {
				return
			}
			exe := filepath.Join(t.TempDir(), "nsbox")
			if err := os.WriteFile(exe, bin, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, argv := range [][]string{{"--version"}, {"nsid", "-V"}} {
				out, err := exec.Command(exe, argv...).Output()
				if first, _, _ := strings.Cut(string(out), "\n"); err != nil || !strings.HasSuffix(first, "nsbox "+r.version) {
					t.Errorf("nsbox %q: %q, %v; want the version %s", argv, out, err, r.version)
				}
			}
		})
	}
}

// readArchive reads a .tar.gz and checks what make dist promises of its
// form; it returns its regular files' contents by name.
func readArchive(t *testing.T, path string, epoch int64) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if z.Name != "" || !z.ModTime.IsZero() {
		t.Errorf("%s: gzip records the name %q and the time %v", path, z.Name, z.ModTime)
	}
	tr := tar.NewReader(z)
	files := map[string][]byte{}
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.TrimSuffix(h.Name, "/"))
		mode := int64(0o644)
		if h.Typeflag == tar.TypeDir || strings.HasSuffix(h.Name, "/nsbox") {
			mode = 0o755
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != epoch || h.Mode != mode {
			t.Errorf("%s: owner %d:%d (%q:%q), time %d, mode %o; want 0:0, %d, %o", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime.Unix(), h.Mode, epoch, mode)
		}
		if h.Typeflag == tar.TypeReg {
			if files[h.Name], err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("%s: the entries are not in name order: %q", path, names)
	}
	return files
}

// TestGoBuildVersion: a plain go build in a checkout, as go install
// builds, says the commit (12 digits, as the Makefile's git describe)
// with -dirty for a changed tree, from nsbox --version and from every
// applet's -V.
func TestGoBuildVersion(t *testing.T) {
	r := builtReleases(t)[0]
	gotool, err := exec.LookPath("go")
	if err != nil {
		gotool = "/usr/local/go/bin/go" // as the Makefile finds it
	}
	exe := filepath.Join(t.TempDir(), "nsbox")
	cmd := exec.Command(gotool, "build", "-trimpath", "-buildvcs=true", "-o", exe, "./cmds/nsbox")
	cmd.Dir, cmd.Env = r.tree, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rev, _ := run(r.tree, "git", "rev-parse", "HEAD")
	want := strings.TrimSpace(rev)[:12]
	if status, _ := run(r.tree, "git", "status", "--porcelain"); status != "" {
		want += "-dirty"
	}
	for argv, line := range map[string]string{"--version": "nsbox " + want, "nsid -V": "nsid from nsbox " + want} {
		out, err := exec.Command(exe, strings.Fields(argv)...).Output()
		if first, _, _ := strings.Cut(string(out), "\n"); err != nil || first != line {
			t.Errorf("nsbox %s: %q, %v; want %q", argv, first, err, line)
		}
	}
	if _, err := strconv.ParseUint(want[:12], 16, 64); err != nil {
		t.Errorf("HEAD %q", want)
	}
}
