package execpath

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// tree is a scratch directory with:
//
//	exec/prog     0755  (also exec/only)
//	noexec/prog   0644  (also noexec/plain)
//	dir/prog/     a directory
//	empty/
//	link/prog  -> ../exec/prog
//	dangling/prog -> nowhere
//	afile         a regular file used as a PATH element
type tree struct{ root string }

func (tr tree) p(rel string) string { return filepath.Join(tr.root, rel) }

func newTree(t *testing.T) tree {
	t.Helper()
	tr := tree{root: t.TempDir()}
	mk := func(rel string, mode os.FileMode) {
		t.Helper()
		path := tr.p(rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	mk("exec/prog", 0o755)
	mk("exec/only", 0o755)
	mk("noexec/prog", 0o644)
	mk("noexec/plain", 0o644)
	mk("afile", 0o755)
	for _, d := range []string{"dir/prog", "empty", "link", "dangling"} {
		if err := os.MkdirAll(tr.p(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../exec/prog", tr.p("link/prog")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", tr.p("dangling/prog")); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestLookPath(t *testing.T) {
	tr := newTree(t)
	// The process's own PATH must play no part.
	t.Setenv("PATH", tr.p("exec"))
	join := func(dirs ...string) string {
		s := ""
		for i, d := range dirs {
			if i > 0 {
				s += ":"
			}
			if d != "" {
				s += tr.p(d)
			}
		}
		return s
	}
	tests := []struct {
		name string
		file string
		env  []string
		want string // "" when an error is expected
		err  error
	}{
		{"found", "prog", []string{"PATH=" + join("exec")}, tr.p("exec/prog"), nil},
		{"first match wins", "prog", []string{"PATH=" + join("link", "exec")}, tr.p("link/prog"), nil},
		{"non-executable skipped", "prog", []string{"PATH=" + join("noexec", "exec")}, tr.p("exec/prog"), nil},
		{"non-executable only: EACCES", "plain", []string{"PATH=" + join("noexec", "exec")}, "", unix.EACCES},
		{"non-executable first, nothing else: EACCES", "prog", []string{"PATH=" + join("noexec", "empty")}, "", unix.EACCES},
		{"non-executable last, nothing else: EACCES", "prog", []string{"PATH=" + join("empty", "noexec")}, "", unix.EACCES},
		{"directory skipped", "prog", []string{"PATH=" + join("dir", "exec")}, tr.p("exec/prog"), nil},
		{"directory only: EACCES", "prog", []string{"PATH=" + join("dir", "empty")}, "", unix.EACCES},
		{"dangling symlink skipped", "prog", []string{"PATH=" + join("dangling", "exec")}, tr.p("exec/prog"), nil},
		{"dangling symlink only: ENOENT", "prog", []string{"PATH=" + join("dangling")}, "", unix.ENOENT},
		{"not found: ENOENT", "nosuch", []string{"PATH=" + join("exec", "empty")}, "", unix.ENOENT},
		{"missing PATH directory", "prog", []string{"PATH=" + tr.p("missing") + ":" + tr.p("exec")}, tr.p("exec/prog"), nil},
		{"file as PATH element", "prog", []string{"PATH=" + tr.p("afile") + ":" + tr.p("exec")}, tr.p("exec/prog"), nil},
		{"PATH from env, not the process", "only", []string{"PATH=" + join("empty")}, "", unix.ENOENT},
		{"other variables ignored", "prog", []string{"XPATH=" + join("exec"), "PATH=" + join("noexec")}, "", unix.EACCES},
		{"PATH prefix of a longer name ignored", "prog", []string{"PATHX=" + join("exec")}, "", unix.ENOENT},
		{"default PATH when unset", "sh", []string{"HOME=/"}, "/bin/sh", nil},
		{"default PATH when env is nil", "sh", nil, "/bin/sh", nil},
		{"default PATH excludes the process PATH", "only", nil, "", unix.ENOENT},
		{"absolute name as is", "/nonexistent/x", []string{"PATH=" + join("exec")}, "/nonexistent/x", nil},
		{"relative name with slash as is", "./prog", nil, "./prog", nil},
		{"name with slash not searched", "sub/prog", []string{"PATH=" + tr.root}, "sub/prog", nil},
		{"empty name", "", []string{"PATH=" + join("exec")}, "", unix.ENOENT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LookPath(tc.file, tc.env)
			if got != tc.want || err != tc.err {
				t.Errorf("LookPath(%q, %q) = %q, %v; want %q, %v", tc.file, tc.env, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestLookPathDefaultPath(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	// /usr/bin is searched after /bin.
	for _, name := range []string{"env", "id"} {
		got, err := LookPath(name, []string{"A=1"})
		if err != nil {
			if _, serr := os.Stat("/usr/bin/" + name); serr != nil {
				continue
			}
			t.Errorf("LookPath(%q) without PATH: %v", name, err)
			continue
		}
		if got != "/bin/"+name && got != "/usr/bin/"+name {
			t.Errorf("LookPath(%q) without PATH = %q, want /bin or /usr/bin", name, got)
		}
	}
}

// Empty PATH elements mean the current directory, as in execvp.
func TestLookPathEmptyElements(t *testing.T) {
	tr := newTree(t)
	t.Chdir(tr.p("exec"))
	tests := []struct {
		name string
		path string
		file string
		want string
		err  error
	}{
		{"leading empty", ":" + tr.p("empty"), "prog", "./prog", nil},
		{"trailing empty", tr.p("empty") + ":", "prog", "./prog", nil},
		{"middle empty", tr.p("empty") + "::" + tr.p("link"), "prog", "./prog", nil},
		{"earlier element wins over empty", tr.p("link") + ":", "prog", tr.p("link/prog"), nil},
		{"explicit dot", ".", "prog", "./prog", nil},
		{"empty element, not there", ":" + tr.p("empty"), "nosuch", "", unix.ENOENT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LookPath(tc.file, []string{"PATH=" + tc.path})
			if got != tc.want || err != tc.err {
				t.Errorf("LookPath(%q, PATH=%q) = %q, %v; want %q, %v", tc.file, tc.path, got, err, tc.want, tc.err)
			}
		})
	}
}

// PATH set but empty is a single empty element: glibc's execvp then runs
// the file from the current directory (it execs "prog" as is).
func TestLookPathEmptyPATH(t *testing.T) {
	tr := newTree(t)
	t.Chdir(tr.p("exec"))
	got, err := LookPath("prog", []string{"PATH="})
	if err == unix.ENOENT {
		t.Errorf("LookPath(\"prog\", [\"PATH=\"]) with ./prog executable = %q, %v; execvp with PATH=\"\" searches the current directory (an empty PATH is one empty element), want \"./prog\" (filepath.SplitList(\"\") returns no elements)", got, err)
	}
	if err != nil || got != "./prog" {
		t.Errorf("LookPath(prog, PATH=) = %q, %v; want ./prog, nil", got, err)
	}
}

// With PATH twice in the environment, getenv (and so execvp, and the
// program itself) sees the first.
func TestLookPathDuplicatePATH(t *testing.T) {
	tr := newTree(t)
	env := []string{"PATH=" + tr.p("exec"), "PATH=" + tr.p("empty")}
	got, err := LookPath("prog", env)
	if err == unix.ENOENT {
		t.Errorf("LookPath with env %q = %q, %v; the last PATH wins, but getenv(3) and execvp use the first, want %q", env, got, err, tr.p("exec/prog"))
	}
	if err != nil || got != tr.p("exec/prog") {
		t.Errorf("LookPath(prog, %q) = %q, %v; want %q", env, got, err, tr.p("exec/prog"))
	}
}

func TestLookPathUnsearchableDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root searches any directory")
	}
	tr := newTree(t)
	locked := tr.p("locked")
	if err := os.Mkdir(locked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(locked, "prog"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	if _, err := LookPath("prog", []string{"PATH=" + locked}); err != unix.EACCES {
		t.Errorf("unsearchable dir: err = %v, want EACCES", err)
	}
	if got, err := LookPath("prog", []string{"PATH=" + locked + ":" + tr.p("exec")}); err != nil || got != tr.p("exec/prog") {
		t.Errorf("unsearchable dir then exec: %q, %v", got, err)
	}
}
