package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRootOnce: the new root is the directory opened, whatever is at
// its path afterwards. Once open, renaming it away and putting a
// directory whose mount points lead out of it (links to /) in its place
// changes nothing: Check still looks in the directory opened. (No root
// needed: Check mounts nothing.)
func TestOpenRootOnce(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "root")
	mkdirs(t, filepath.Join(dir, "tmp"))
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Path != dir {
		t.Errorf("Path = %q, want %q", r.Path, dir)
	}
	if err := os.Rename(dir, filepath.Join(base, "moved")); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, dir)
	symlink(t, "/", filepath.Join(dir, "tmp"))
	steps := []Step{{Name: Tmp, Op: OpFS, FSType: "tmpfs", Target: "/tmp"}}
	if err := r.Check(steps); err != nil {
		t.Errorf("Check looked at the path again: %v", err)
	}
	// And the other way round: the directory at the path is refused.
	r2, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if err := r2.Check(steps); !errors.Is(err, ErrEscapes) {
		t.Errorf("Check of the new directory: %v, want %v", err, ErrEscapes)
	}
}

// TestCheckRootItself: a mount point that resolves to the new root itself,
// through a link or a chain of them, is refused with ErrIsRoot, before
// anything is mounted; a link to a directory inside is followed, and a
// missing mount point is fine (it is made when mounting).
func TestCheckRootItself(t *testing.T) {
	dir := t.TempDir()
	mkdirs(t, filepath.Join(dir, "mnt"), filepath.Join(dir, "etc"))
	symlink(t, ".", filepath.Join(dir, "tmp"))
	symlink(t, "mnt/..", filepath.Join(dir, "up"))
	symlink(t, "etc", filepath.Join(dir, "sub"))
	symlink(t, "../.", filepath.Join(dir, "etc", "parent"))
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for target, want := range map[string]string{
		"/tmp":        "tmp: destination is the new root itself: /tmp leads back to " + dir,
		"/up":         "tmp: destination is the new root itself: /up leads back to " + dir,
		"/sub/parent": "tmp: destination is the new root itself: /sub/parent leads back to " + dir,
		"/sub/x":      "",
		"/mnt":        "",
		"/tmp/x":      "",
	} {
		err := r.Check([]Step{{Name: Tmp, Op: OpFS, FSType: "tmpfs", Target: target}})
		if got := errString(err); got != want {
			t.Errorf("Check %s: %q, want %q", target, got, want)
		}
		if want != "" && !errors.Is(err, ErrIsRoot) {
			t.Errorf("Check %s: %v is not ErrIsRoot", target, err)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
