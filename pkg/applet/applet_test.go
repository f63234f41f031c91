package applet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// The test table: two visible applets and a hidden one. tapplet's
// behaviour is chosen by its first operand.
const tappletUsage = "\nUsage:\n tapplet [options] [word]\n"

func init() {
	Register(Applet{Name: "tapplet", Summary: "test applet", Usage: tappletUsage, Run: runTapplet})
	Register(Applet{Name: "tother", Summary: "another test applet", Run: func(e *Env) error {
		io.WriteString(e.Stdout, "tother ran\n")
		return nil
	}})
	Register(Applet{Name: "thidden", Summary: "hidden stage", Hidden: true, Run: func(e *Env) error {
		io.WriteString(e.Stdout, "hidden ran\n")
		return nil
	}})
}

func runTapplet(e *Env) error {
	fs := NewFlags(e)
	fs.BoolP("fork", "f", false, "")
	fs.StringP("setuid", "S", "", "")
	rest, done, err := Parse(e, fs, tappletUsage)
	if err != nil || done {
		return err
	}
	word := ""
	if len(rest) > 0 {
		word = rest[0]
	}
	switch word {
	case "out":
		// Write errors are left to Run, as util-linux leaves them to
		// close_stdout.
		io.WriteString(e.Stdout, "hello\n")
		return nil
	case "outfail":
		io.WriteString(e.Stdout, "hello\n")
		return &Exit{Code: 3, Msg: "it failed"}
	case "exit":
		return &Exit{Code: 7}
	case "errorf":
		return Errorf("cannot do %s", "that")
	case "usage":
		return Usagef("bad value: '%s'", "x")
	case "signal":
		return &Signaled{Sig: int(syscall.SIGTERM)}
	case "errno":
		return fmt.Errorf("mount x failed: %w", syscall.EPERM)
	case "args":
		fmt.Fprintf(e.Stdout, "%q\n", e.Args)
		return nil
	}
	io.WriteString(e.Stdout, "ok\n")
	return nil
}

// failWriter is a stdout on a full device.
type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, syscall.ENOSPC }

func TestRegister(t *testing.T) {
	if Lookup("tapplet") == nil || Lookup("thidden") == nil {
		t.Fatal("test applets not registered")
	}
	if Lookup("nosuch") != nil {
		t.Error("Lookup(nosuch) != nil")
	}
	names := Names()
	for _, n := range names {
		if n == "thidden" {
			t.Errorf("Names() = %q lists the hidden applet", names)
		}
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("Names() = %q is not sorted", names)
		}
	}
	panics := func(a Applet) (p bool) {
		defer func() { p = recover() != nil }()
		Register(a)
		return false
	}
	tests := []struct {
		name string
		a    Applet
	}{
		{"duplicate", Applet{Name: "tapplet", Run: runTapplet}},
		{"no name", Applet{Run: runTapplet}},
		{"no run", Applet{Name: "tnorun"}},
	}
	for _, tc := range tests {
		if !panics(tc.a) {
			t.Errorf("Register(%s) did not panic", tc.name)
		}
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		msg  string
		code int
	}{
		{"nil", nil, "", 0},
		{"exit with message", &Exit{Code: 3, Msg: "boom"}, "unshare: boom\n", 3},
		{"exit without message", &Exit{Code: 7}, "", 7},
		{"exit zero", &Exit{Code: 0}, "", 0},
		{"errorf", Errorf("unsupported propagation mode: %s", "bogus"),
			"unshare: unsupported propagation mode: bogus\n", 1},
		{"wrapped exit", fmt.Errorf("ctx: %w", &Exit{Code: 4, Msg: "inner"}), "unshare: inner\n", 4},
		{"usage", &Usage{Msg: "unrecognized option '--bogus'"},
			"unshare: unrecognized option '--bogus'\nTry 'unshare --help' for more information.\n", 1},
		{"usagef", Usagef("invalid option -- '%s'", "Z"),
			"unshare: invalid option -- 'Z'\nTry 'unshare --help' for more information.\n", 1},
		{"signaled TERM", &Signaled{Sig: 15}, "", 143},
		{"signaled KILL", &Signaled{Sig: 9}, "", 137},
		{"signaled INT", &Signaled{Sig: 2}, "", 130},
		{"errno", fmt.Errorf("mount x failed: %w", syscall.EPERM),
			"unshare: mount x failed: Operation not permitted\n", 1},
		{"bare errno", syscall.ENOENT, "unshare: No such file or directory\n", 1},
		{"path error", &os.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT},
			"unshare: open /x: No such file or directory\n", 1},
		{"plain error", errors.New("something broke"), "unshare: something broke\n", 1},
		{"errno not at the end is left alone", fmt.Errorf("%w (while mounting)", syscall.EPERM),
			"unshare: operation not permitted (while mounting)\n", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, code := Status("unshare", tc.err)
			if msg != tc.msg || code != tc.code {
				t.Errorf("Status(%v) = %q, %d; want %q, %d", tc.err, msg, code, tc.msg, tc.code)
			}
		})
	}
}

func TestUsageLines(t *testing.T) {
	msg, _ := Status("unshare", Usagef("x"))
	lines := strings.Split(strings.TrimSuffix(msg, "\n"), "\n")
	if len(lines) != 2 || lines[1] != "Try 'unshare --help' for more information." {
		t.Errorf("usage message %q: want two lines ending with the Try line", msg)
	}
}

func TestMessage(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("mount x failed: %w", syscall.EPERM), "mount x failed: Operation not permitted"},
		{fmt.Errorf("write failed /proc/self/uid_map: %w", syscall.EINVAL), "write failed /proc/self/uid_map: Invalid argument"},
		{syscall.ENOSPC, "No space left on device"},
		{errors.New("no errno here"), "no errno here"},
		{fmt.Errorf("a: %w", errors.New("b")), "a: b"},
	}
	for _, tc := range tests {
		if got := Message(tc.err); got != tc.want {
			t.Errorf("Message(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestStrerror(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"errno", syscall.EACCES, "Permission denied"},
		{"path error", &os.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}, "No such file or directory"},
		{"link error", &os.LinkError{Op: "link", Old: "a", New: "b", Err: syscall.EEXIST}, "File exists"},
		{"syscall error", os.NewSyscallError("unshare", syscall.EPERM), "Operation not permitted"},
		{"exec error", &exec.Error{Name: "x", Err: syscall.ENOEXEC}, "Exec format error"},
		{"wrapped", fmt.Errorf("ctx: %w", syscall.EBADF), "Bad file descriptor"},
		{"not errno", errors.New("plain text"), "plain text"},
		{"ENOSPC", syscall.ENOSPC, "No space left on device"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Strerror(tc.err); got != tc.want {
				t.Errorf("Strerror(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	a := Lookup("tapplet")
	tests := []struct {
		name   string
		args   []string
		stdout io.Writer // nil: a buffer
		out    string
		errOut string
		code   int
	}{
		{"help", []string{"--help"}, nil, tappletUsage, "", 0},
		{"help short", []string{"-h"}, nil, tappletUsage, "", 0},
		{"version", []string{"--version"}, nil, "tapplet from nsbox " + Release() + "\n", "", 0},
		{"version short", []string{"-V"}, nil, "tapplet from nsbox " + Release() + "\n", "", 0},
		{"plain", nil, nil, "ok\n", "", 0},
		{"unknown long", []string{"--bogus"}, nil, "",
			"tapplet: unrecognized option '--bogus'\nTry 'tapplet --help' for more information.\n", 1},
		{"unknown short", []string{"-Z"}, nil, "",
			"tapplet: invalid option -- 'Z'\nTry 'tapplet --help' for more information.\n", 1},
		{"missing arg", []string{"-S"}, nil, "",
			"tapplet: option requires an argument -- 'S'\nTry 'tapplet --help' for more information.\n", 1},
		{"exit code", []string{"exit"}, nil, "", "", 7},
		{"errorf", []string{"errorf"}, nil, "", "tapplet: cannot do that\n", 1},
		{"usagef", []string{"usage"}, nil, "",
			"tapplet: bad value: 'x'\nTry 'tapplet --help' for more information.\n", 1},
		{"signaled", []string{"signal"}, nil, "", "", 128 + int(syscall.SIGTERM)},
		{"errno", []string{"errno"}, nil, "", "tapplet: mount x failed: Operation not permitted\n", 1},
		{"args passed through", []string{"-f", "args", "x"}, nil, "[\"-f\" \"args\" \"x\"]\n", "", 0},
		{"help on full stdout", []string{"--help"}, failWriter{}, "",
			"tapplet: write error: No space left on device\n", 1},
		{"version on full stdout", []string{"--version"}, failWriter{}, "",
			"tapplet: write error: No space left on device\n", 1},
		{"output on full stdout", []string{"out"}, failWriter{}, "",
			"tapplet: write error: No space left on device\n", 1},
		{"applet error wins over write error", []string{"outfail"}, failWriter{}, "", "tapplet: it failed\n", 3},
		{"path error write", []string{"out"},
			writerFunc(func([]byte) (int, error) {
				return 0, &os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EIO}
			}), "", "tapplet: write error: Input/output error\n", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			stdout := tc.stdout
			if stdout == nil {
				stdout = &out
			}
			code := Run(a, tc.args, nil, stdout, &errb)
			if code != tc.code || out.String() != tc.out || errb.String() != tc.errOut {
				t.Errorf("Run(%q) = %d, stdout %q, stderr %q; want %d, %q, %q",
					tc.args, code, out.String(), errb.String(), tc.code, tc.out, tc.errOut)
			}
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
