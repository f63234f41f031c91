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
