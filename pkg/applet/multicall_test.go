package applet

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func runMain(argv ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = main(argv, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func TestMainDispatch(t *testing.T) {
	list := strings.Join(Names(), "\n") + "\n"
	version := "tapplet from nsbox " + Release() + "\n"
	tests := []struct {
		name   string
		argv   []string
		code   int
		out    string
		errOut string
	}{
		{"list", []string{"nsbox", "--list"}, 0, list, ""},
		{"list by path", []string{"/usr/local/bin/nsbox", "--list"}, 0, list, ""},
		{"list from nsbox-purego", []string{"out/nsbox-purego", "--list"}, 0, list, ""},
		{"version", []string{"nsbox", "--version"}, 0, "nsbox " + Release() + "\n", ""},
		{"version short", []string{"nsbox", "-V"}, 0, "nsbox " + Release() + "\n", ""},
		{"applet by argv0", []string{"tapplet", "--version"}, 0, version, ""},
		{"applet by argv0 path", []string{"/usr/bin/tapplet", "--version"}, 0, version, ""},
		{"login-style argv0", []string{"-tapplet", "--version"}, 0, version, ""},
		{"login-style argv0 path", []string{"/bin/-tapplet"}, 0, "ok\n", ""},
		{"nsbox APPLET args", []string{"nsbox", "tapplet", "args", "-x"}, 0, "[\"args\" \"-x\"]\n", ""},
		{"nsbox /path/APPLET", []string{"nsbox", "/some/where/tapplet", "--version"}, 0, version, ""},
		{"hidden applet reachable by name", []string{"nsbox", "thidden"}, 0, "hidden ran\n", ""},
		{"other applet", []string{"tother"}, 0, "tother ran\n", ""},
		{"unknown applet argv0", []string{"nosuchapplet", "x"}, 127, "", "nosuchapplet: applet not found\n"},
		{"unknown applet argv1", []string{"nsbox", "nosuchapplet"}, 127, "", "nosuchapplet: applet not found\n"},
		{"unknown applet login-style", []string{"-nosuchapplet"}, 127, "", "nosuchapplet: applet not found\n"},
		{"help APPLET", []string{"nsbox", "--help", "tapplet"}, 0, tappletUsage, ""},
		{"help unknown APPLET", []string{"nsbox", "-h", "nosuch"}, 127, "", "nosuch: applet not found\n"},
		{"bad long option", []string{"nsbox", "--bogus"}, 1, "",
			"nsbox: unrecognized option '--bogus'\nTry 'nsbox --help' for more information.\n"},
		{"bad short option", []string{"nsbox", "-Z"}, 1, "",
			"nsbox: invalid option -- 'Z'\nTry 'nsbox --help' for more information.\n"},
		{"completion without shell", []string{"nsbox", "--completion"}, 1, "",
			"nsbox: --completion needs a shell: bash, zsh or fish\nTry 'nsbox --help' for more information.\n"},
		{"completion for another shell", []string{"nsbox", "--completion", "tcsh"}, 1, "",
			"nsbox: no completion for shell 'tcsh': bash, zsh or fish\n"},
		{"install without dir", []string{"nsbox", "--install"}, 1, "",
			"nsbox: --install needs a directory\nTry 'nsbox --help' for more information.\n"},
		{"install -s without dir", []string{"nsbox", "--install", "-s"}, 1, "",
			"nsbox: --install needs a directory\nTry 'nsbox --help' for more information.\n"},
		{"install two dirs", []string{"nsbox", "--install", "a", "b"}, 1, "",
			"nsbox: --install needs a directory\nTry 'nsbox --help' for more information.\n"},
		{"install into missing dir", []string{"nsbox", "--install", "/nonexistent-nsbox-dir"}, 1, "",
			"nsbox: cannot install into /nonexistent-nsbox-dir: No such file or directory\n"},
		{"install into a file", []string{"nsbox", "--install", "/proc/self/status"}, 1, "",
			"nsbox: cannot install into /proc/self/status: Not a directory\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runMain(tc.argv...)
			if code != tc.code || out != tc.out || errOut != tc.errOut {
				t.Errorf("main(%q) = %d, stdout %q, stderr %q; want %d, %q, %q",
					tc.argv, code, out, errOut, tc.code, tc.out, tc.errOut)
			}
		})
	}
}

func TestMainListHidesHidden(t *testing.T) {
	_, out, _ := runMain("nsbox", "--list")
	if !strings.Contains(out, "tapplet\n") || !strings.Contains(out, "tother\n") {
		t.Errorf("--list = %q, want tapplet and tother", out)
	}
	if strings.Contains(out, "thidden") {
		t.Errorf("--list = %q lists a hidden applet", out)
	}
}

func TestMainHelp(t *testing.T) {
	for _, argv := range [][]string{{"nsbox"}, {"nsbox", "--help"}, {"nsbox", "-h"}, {}} {
		code, out, errOut := runMain(argv...)
		if code != 0 || errOut != "" {
			t.Errorf("main(%q) = %d, stderr %q; want 0 and no stderr", argv, code, errOut)
		}
		if !strings.HasPrefix(out, "Usage: nsbox [APPLET] [ARGUMENTS...]\n") {
			t.Errorf("main(%q) stdout does not start with the usage: %q", argv, out)
		}
		if !strings.Contains(out, "\nApplets:\n") || !strings.Contains(out, " tapplet  test applet\n") ||
			!strings.Contains(out, " tother   another test applet\n") {
			t.Errorf("main(%q) applet list missing or misaligned: %q", argv, out)
		}
		if strings.Contains(out, "thidden") {
			t.Errorf("main(%q) help lists a hidden applet", argv)
		}
	}
}

func TestMainWriteError(t *testing.T) {
	for _, argv := range [][]string{{"nsbox", "--list"}, {"nsbox", "--help"}, {"nsbox", "--version"}} {
		var errb bytes.Buffer
		code := main(argv, nil, failWriter{}, &errb)
		if want := "nsbox: write error: No space left on device\n"; code != 1 || errb.String() != want {
			t.Errorf("main(%q) on a full stdout = %d, %q; want 1, %q", argv, code, errb.String(), want)
		}
	}
	var errb bytes.Buffer
	code := main([]string{"tapplet", "--help"}, nil, failWriter{}, &errb)
	if want := "tapplet: write error: No space left on device\n"; code != 1 || errb.String() != want {
		t.Errorf("tapplet --help on a full stdout = %d, %q; want 1, %q", code, errb.String(), want)
	}
}

// `nsbox -` has a lone "-" where an option or an applet name goes.
func TestMainLoneDash(t *testing.T) {
	var code int
	var out, errOut string
	panicked := func() (p any) {
		defer func() { p = recover() }()
		code, out, errOut = runMain("nsbox", "-")
		return nil
	}()
	if panicked != nil {
		t.Errorf("`nsbox -` panics (%v): multicallRun slices strings.TrimPrefix(\"-\", \"-\")[:1]; want an error message (e.g. \"-: applet not found\", rc 127), not a crash", panicked)
	}
	if code == 0 || errOut == "" || out != "" {
		t.Errorf("main(nsbox -) = %d, stdout %q, stderr %q; want a failure with a message", code, out, errOut)
	}
}

func TestInstall(t *testing.T) {
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Skipf("no /proc/self/exe: %v", err)
	}
	selfSt, err := os.Stat(self)
	if err != nil {
		t.Fatal(err)
	}
	names := Names()

	t.Run("hard links", func(t *testing.T) {
		dir := t.TempDir()
		var dst syscall.Stat_t
		if err := syscall.Stat(dir, &dst); err != nil {
			t.Fatal(err)
		}
		if uint64(dst.Dev) != uint64(selfSt.Sys().(*syscall.Stat_t).Dev) {
			t.Skip("the temporary directory and the test binary are on different file systems")
		}
		probe := filepath.Join(t.TempDir(), "probe")
		if err := os.Link(self, probe); err != nil {
			// e.g. fs.protected_hardlinks and a binary owned by someone else
			t.Skipf("cannot hard-link the test binary here: %v", err)
		}
		// An existing entry is left alone.
		existing := filepath.Join(dir, "tother")
		if err := os.WriteFile(existing, []byte("mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runMain("nsbox", "--install", dir)
		if code != 0 || out != "" || errOut != "" {
			t.Fatalf("--install = %d, %q, %q", code, out, errOut)
		}
		for _, n := range names {
			p := filepath.Join(dir, n)
			st, err := os.Lstat(p)
			if err != nil {
				t.Errorf("%s: %v", n, err)
				continue
			}
			if n == "tother" {
				if b, _ := os.ReadFile(p); string(b) != "mine\n" {
					t.Errorf("existing %s was replaced: %q", n, b)
				}
				continue
			}
			if !st.Mode().IsRegular() || !os.SameFile(st, selfSt) {
				t.Errorf("%s is not a hard link to %s (mode %v)", n, self, st.Mode())
			}
		}
		if _, err := os.Lstat(filepath.Join(dir, "thidden")); err == nil {
			t.Error("hidden applet installed")
		}
		// Installing again is not an error.
		if code, _, errOut := runMain("nsbox", "--install", dir); code != 0 || errOut != "" {
			t.Errorf("second --install = %d, %q", code, errOut)
		}
	})

	t.Run("symlinks", func(t *testing.T) {
		dir := t.TempDir()
		existing := filepath.Join(dir, "tapplet")
		if err := os.Symlink("/somewhere/else", existing); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runMain("nsbox", "--install", "-s", dir)
		if code != 0 || out != "" || errOut != "" {
			t.Fatalf("--install -s = %d, %q, %q", code, out, errOut)
		}
		for _, n := range names {
			target, err := os.Readlink(filepath.Join(dir, n))
			if err != nil {
				t.Errorf("%s: %v", n, err)
				continue
			}
			want := self
			if n == "tapplet" {
				want = "/somewhere/else" // left alone
			}
			if target != want {
				t.Errorf("%s -> %s, want -> %s", n, target, want)
			}
		}
		if _, err := os.Lstat(filepath.Join(dir, "thidden")); err == nil {
			t.Error("hidden applet installed")
		}
	})
}

// The completion scripts name every visible applet and none of the hidden.
func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := runMain("nsbox", "--completion", sh)
		if code != 0 || errOut != "" {
			t.Fatalf("--completion %s: exit %d, %q", sh, code, errOut)
		}
		for _, n := range Names() {
			if !strings.Contains(out, " "+n+" ") && !strings.Contains(out, " "+n+"\n") {
				t.Errorf("--completion %s: no %s", sh, n)
			}
		}
		if strings.Contains(out, "thidden") {
			t.Errorf("--completion %s names the hidden applet", sh)
		}
	}
}
