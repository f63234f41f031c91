package pin

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// What a kill leaves at each step of a pin, built by hand: pin -d
// (Inspect, then Unpin or UnpinDir) recognises and removes it, and
// leaves alone what is not recognisably a pin's.
func TestLeftovers(t *testing.T) {
	write := func(path, data string, mode uint32) {
		t.Helper()
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := unix.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	mkdir := func(path string) {
		t.Helper()
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	created := marker{Created: true}.String()

	t.Run("unbound pin file", func(t *testing.T) {
		dir := t.TempDir()
		f := filepath.Join(dir, "net")
		write(f, "", 0) // created (mode 0), killed before the bind
		if k, err := Inspect(f); k != KindPin || err != nil {
			t.Fatalf("Inspect: %v %v", k, err)
		}
		if err := Unpin(f); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("left %s: %v", f, err)
		}
		// A user's files: touched (0644), with data, or with one bit.
		for _, c := range []struct {
			data string
			mode uint32
		}{{"", 0o644}, {"x", 0}, {"", 0o4000}} {
			write(f, c.data, c.mode)
			if _, err := Inspect(f); !errors.Is(err, ErrNotPin) {
				t.Errorf("Inspect of %q mode %o: %v", c.data, c.mode, err)
			}
			if err := Unpin(f); !errors.Is(err, ErrNotPin) {
				t.Errorf("Unpin of %q mode %o: %v", c.data, c.mode, err)
			}
			if _, err := os.Lstat(f); err != nil {
				t.Errorf("removed a user's file %q mode %o", c.data, c.mode)
			}
			os.Remove(f)
		}
	})

	t.Run("directory being made", func(t *testing.T) {
		dir := t.TempDir()
		box := filepath.Join(dir, "box")
		empty := filepath.Join(dir, tempPrefix+"box.41")  // killed after mkdir
		marked := filepath.Join(dir, tempPrefix+"box.42") // killed before the rename
		mkdir(empty)
		mkdir(marked)
		write(filepath.Join(marked, MarkerName), created, 0o644)
		other := filepath.Join(dir, tempPrefix+"box.43") // not pin's: a file in it
		mkdir(other)
		write(filepath.Join(other, "data"), "x", 0o644)
		near := filepath.Join(dir, tempPrefix+"boxes.44") // another DIR's
		mkdir(near)
		if k, err := Inspect(box); k != KindDir || err != nil {
			t.Fatalf("Inspect: %v %v", k, err)
		}
		if err := UnpinDir(box); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{empty, marked} {
			if _, err := os.Lstat(p); !os.IsNotExist(err) {
				t.Errorf("left %s: %v", p, err)
			}
		}
		for _, p := range []string{other, near} {
			if _, err := os.Lstat(p); err != nil {
				t.Errorf("removed %s", p)
			}
		}
		// Nothing left of it: as for a DIR that is not there.
		if _, err := Inspect(box); !errors.Is(err, unix.ENOENT) {
			t.Errorf("Inspect after: %v", err)
		}
	})

	t.Run("directory with its marker", func(t *testing.T) {
		dir := t.TempDir()
		box := filepath.Join(dir, "box")
		mkdir(box) // renamed into place, killed before anything else
		write(filepath.Join(box, MarkerName), created, 0o644)
		write(filepath.Join(box, markerNew), "crea", 0o644) // a rewrite cut short
		write(filepath.Join(box, "uts"), "", 0)             // a pin file not bound yet
		if err := UnpinDir(box); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(box); !os.IsNotExist(err) {
			t.Errorf("left %s: %v", box, err)
		}
		if names, _ := filepath.Glob(filepath.Join(dir, ".*")); len(names) > 0 {
			t.Errorf("left %v", names)
		}
	})

	t.Run("first marker cut short", func(t *testing.T) {
		dir := t.TempDir() // a directory of the user's: kept
		write(filepath.Join(dir, markerNew), "# nsbox", 0o644)
		write(filepath.Join(dir, "data"), "x", 0o644)
		if k, err := Inspect(dir); k != KindDir || err != nil {
			t.Fatalf("Inspect: %v %v", k, err)
		}
		if err := UnpinDir(dir); err != nil {
			t.Fatal(err)
		}
		names, _ := os.ReadDir(dir)
		if len(names) != 1 || names[0].Name() != "data" {
			t.Errorf("left %v", names)
		}
		if _, err := Inspect(dir); !errors.Is(err, ErrNotHandle) {
			t.Errorf("Inspect after: %v", err)
		}
	})
}
