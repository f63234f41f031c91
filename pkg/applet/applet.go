// Package applet is nsbox's applet table, its argv[0] dispatcher and the
// command-line contract every applet shares: messages, exit codes and the
// write-error check on standard output.
//
// An applet registers itself from its package's init function:
//
//	func init() { applet.Register(applet.Applet{Name: "unshare", Summary: ..., Usage: ..., Run: run}) }
//
// and the multi-call binary imports the package for its side effect. Only
// Main calls os.Exit; an applet's Run returns an error (see Exit, Usage and
// Signaled) and never exits by itself.
package applet

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/nsbox/nsbox/pkg/reexec"
)

// Env carries an applet's arguments and standard streams.
type Env struct {
	Name   string // the applet's name, used as the message prefix
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// describe, when set, makes Parse hand it the flag set and return
	// done without parsing: how Options reads an applet's options.
	describe func(*pflag.FlagSet)
}

// Applet is one entry of the table.
type Applet struct {
	Name    string
	Summary string // one line, for --list and the docs index
	Usage   string // printed by --help (after "Usage:\n")
	Run     func(e *Env) error
	// Hidden applets (setuidmap's newuidmap and newgidmap) are reachable
	// by name, never listed or installed. Internal stages are not
	// applets: see pkg/reexec.
	Hidden bool
	// Privileged applets (setuidmap) run with the privileges of a
	// set-user-ID or file-capability install and must drop them
	// themselves; every other applet refuses to run with them (see
	// refuseSecure).
	Privileged bool
}

var table = map[string]*Applet{}

// Register adds a to the table. A duplicate name is a programming error and
// panics at start-up.
func Register(a Applet) {
	if a.Name == "" || a.Run == nil {
		panic("applet: Register needs a name and a run function")
	}
	if _, dup := table[a.Name]; dup {
		panic("applet: duplicate applet " + a.Name)
	}
	table[a.Name] = &a
}

// Lookup returns the applet called name, or nil.
func Lookup(name string) *Applet { return table[name] }

// Names returns the visible applets, sorted.
func Names() []string {
	var names []string
	for n, a := range table {
		if !a.Hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Exit is an error that carries an exit status and, when Msg is not empty,
// a message for standard error.
type Exit struct {
	Code int
	Msg  string
}

func (e *Exit) Error() string { return e.Msg }

// Errorf returns an operation failure: "APPLET: msg", exit status 1.
func Errorf(format string, args ...any) error {
	return &Exit{Code: 1, Msg: fmt.Sprintf(format, args...)}
}

// Usage is a command-line error: the message, then the "Try ... --help"
// line, exit status 1.
type Usage struct{ Msg string }

func (e *Usage) Error() string { return e.Msg }

// Usagef returns a *Usage error.
func Usagef(format string, args ...any) error {
	return &Usage{Msg: fmt.Sprintf(format, args...)}
}

// Signaled reports that the program an applet waited for was killed by a
// signal: Main re-raises it on itself, or exits 128+Sig where it cannot.
type Signaled struct{ Sig int }

func (e *Signaled) Error() string { return fmt.Sprintf("killed by signal %d", e.Sig) }

// Status turns an error returned by Run into the message to print (may be
// empty) and the exit status, the contract of ARCHITECTURE.md §3.
func Status(name string, err error) (msg string, code int) {
	if err == nil {
		return "", 0
	}
	var ex *Exit
	var us *Usage
	var sg *Signaled
	switch {
	case errors.As(err, &ex):
		if ex.Msg != "" {
			msg = name + ": " + ex.Msg + "\n"
		}
		return msg, ex.Code
	case errors.As(err, &us):
		return fmt.Sprintf("%s: %s\nTry '%s --help' for more information.\n", name, us.Msg, name), 1
	case errors.As(err, &sg):
		return "", 128 + sg.Sig
	}
	return name + ": " + Message(err) + "\n", 1
}

// errWriter remembers the first write error so that Main can report it the
// way util-linux's close_stdout does.
type errWriter struct {
	w   io.Writer
	err error
}

func (w *errWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.w.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Run runs applet a with args and returns the exit status, printing any
// message to stderr. A failed write to stdout turns a success into
// "APPLET: write error: ...", status 1. A program killed by signal S gives
// 128+S (Main re-raises S instead).
func Run(a *Applet, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	code, _ := run(a, args, stdin, stdout, stderr)
	return code
}

func run(a *Applet, args []string, stdin io.Reader, stdout, stderr io.Writer) (code, sig int) {
	if !a.Privileged {
		if err := refuseSecure(a.Name); err != nil {
			msg, code := Status(a.Name, err)
			io.WriteString(stderr, msg)
			return code, 0
		}
	}
	ow := &errWriter{w: stdout}
	err := a.Run(&Env{Name: a.Name, Args: args, Stdin: stdin, Stdout: ow, Stderr: stderr})
	msg, code := Status(a.Name, err)
	if code == 0 && ow.err != nil {
		msg, code = fmt.Sprintf("%s: write error: %s\n", a.Name, errText(ow.err)), 1
	}
	if msg != "" {
		io.WriteString(stderr, msg)
	}
	var sg *Signaled
	if errors.As(err, &sg) {
		sig = sg.Sig
	}
	return code, sig
}

// errText is strerror-style text for err: the innermost errno's message,
// capitalised as glibc prints it.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return Strerror(err)
}

// Main is the multi-call entry point: an internal stage when the process
// was re-executed into one (reexec.Dispatch), else dispatch on
// basename(argv[0]), then on argv[1] when argv[0] is nsbox itself.
func Main() {
	stage()
	os.Exit(main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// MainOne is the entry point of a standalone single-applet binary: an
// internal stage as Main finds it, else applet name whatever argv[0] says.
func MainOne(name string) {
	stage()
	os.Exit(exit(run(Lookup(name), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)))
}

// stage runs the internal stage this process was re-executed into, if
// any, and exits with its status.
func stage() {
	if code, ok := reexec.Dispatch(); ok {
		os.Exit(code)
	}
}

// exit re-raises sig, if any, before the process exits with code.
func exit(code, sig int) int {
	if sig != 0 {
		reraise(sig)
	}
	return code
}

func main(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := "nsbox"
	if len(argv) > 0 {
		name = strings.TrimPrefix(filepath.Base(argv[0]), "-")
	}
	args := argv
	if len(args) > 0 {
		args = args[1:]
	}
	// nsbox itself, or a copy of it (nsbox-purego), unless an applet has
	// that name (nsbox-bridge).
	if strings.HasPrefix(name, "nsbox") && Lookup(name) == nil {
		if len(args) == 0 || (len(args[0]) > 1 && args[0][0] == '-') {
			// --install, --list...: never with a privileged install's rights.
			if err := dropSecure(); err != nil {
				msg, code := Status("nsbox", err)
				io.WriteString(stderr, msg)
				return code
			}
			return multicall(args, stdout, stderr)
		}
		name, args = filepath.Base(args[0]), args[1:]
	}
	a := Lookup(name)
	if a == nil {
		fmt.Fprintf(stderr, "%s: applet not found\n", name)
		return 127
	}
	return exit(run(a, args, stdin, stdout, stderr))
}

// Features are lines that "nsbox --version" prints after the version: what
// this build can and cannot do.
var Features []string
