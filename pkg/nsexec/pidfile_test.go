package nsexec

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPidFile: the PID line is written into an unnamed file that takes
// the name only once whole; nothing shows under the name before, and no
// other name is ever made.
func TestPidFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pid")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenPidFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Dir == nil {
		t.Skip("this filesystem has no O_TMPFILE: the file is written in place")
	}
	if b, _ := os.ReadFile(path); string(b) != "old\n" {
		t.Errorf("opening touched the file there: %q", b)
	}
	if err := Notify([]int{int(f.File.Fd())}, 4242, f.Link()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "4242\n" {
		t.Errorf("pid file holds %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d names in the directory, want 1", len(ents))
	}
}

func TestPidFileRefusals(t *testing.T) {
	dir := t.TempDir()
	os.Symlink("target", filepath.Join(dir, "link"))
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	for _, c := range []struct {
		path string
		want error
	}{
		{filepath.Join(dir, "link"), unix.ELOOP},
		{filepath.Join(dir, "sub"), unix.EISDIR},
		{dir + "/", unix.EISDIR},
		{filepath.Join(dir, "none", "pid"), unix.ENOENT},
	} {
		if _, err := OpenPidFile(c.path); !errors.Is(err, c.want) {
			t.Errorf("OpenPidFile(%s) = %v, want %v", c.path, err, c.want)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "target")); err == nil {
		t.Errorf("a symbolic link was followed")
	}
}
