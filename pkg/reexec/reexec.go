// Package reexec is the registry of nsbox's internal stages: the parts of
// a command that run in a fresh execution of nsbox itself (/proc/self/exe),
// such as the child of unshare --fork, the helper that writes unshare's
// range maps, or the holder process of pin --hold. It has moby/sys
// reexec's shape: the package that starts a stage registers it from its
// init function (a map insert, nothing more), and every main, the
// multi-call nsbox's and each standalone cmds/<applet>'s alike, calls
// Dispatch before it looks at its arguments, so that a stage is found
// whichever binary re-executed itself.
//
// A stage is named by the environment variable Marker, which its starter
// sets. Whoever re-executes nsbox keeps argv[0] the applet's name: in a
// gobusybox (u-root) binary /proc/self/exe is the whole busybox, which
// picks the command by argv[0], so a re-exec as "pin" reaches the pin
// command's main and its Dispatch.
//
// A stage that works for its maker dies with it (those made to outlive
// it aside: pin --hold's holder once recorded, cnibridge's reaper): while
// it waits for its maker it reads a pipe from it, whose end of file (the
// maker gone, whatever killed it) ends the stage, and a maker that fails
// kills and reaps the stages it started. A parent-death signal alone would
// not do: the kernel sends it when the thread that forked ends, not the
// process, and a Go process ends threads of its own accord.
//
// In the cgo build, the C constructor of pkg/nsexec runs the stages
// "self", "child", "join" and "hold" before the Go runtime starts; only
// the others reach Dispatch there. A CGO_ENABLED=0 build runs the Go
// registrations of "child" and "hold" instead, and never starts "self" or
// "join" (unshare -U forks there; nsenter refuses user and time
// namespaces).
package reexec

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Marker names the stage a re-executed nsbox is to run.
const Marker = "_NSBOX_STAGE"

var stages = map[string]func() int{}

// Register adds the stage name, which runs run and exits with the status
// it returns. A stage reads its parameters from the environment and
// argv its starter gave it. An empty or duplicate name is a programming
// error and panics at start-up.
func Register(name string, run func() int) {
	if name == "" || run == nil {
		panic("reexec: Register needs a name and a function")
	}
	if _, dup := stages[name]; dup {
		panic("reexec: stage " + name + " registered twice")
	}
	stages[name] = run
}

// Dispatch runs the stage that Marker names and returns its exit status
// with ok set; ok is false when no stage was asked for. A stage never runs
// set-user-ID, set-group-ID or with file capabilities (its parameters come
// from an environment the caller controls): that is refused with status
// 126.
func Dispatch() (code int, ok bool) {
	name, ok := os.LookupEnv(Marker)
	if !ok {
		return 0, false
	}
	if Secure() {
		fmt.Fprintln(os.Stderr, "nsbox: internal stage refused: the process is set-user-ID or has file capabilities")
		return 126, true
	}
	run := stages[name]
	if run == nil {
		fmt.Fprintf(os.Stderr, "nsbox: unknown internal stage %q\n", name)
		return 1, true
	}
	return run(), true
}

// Secure reports whether the process runs with privileges its caller does
// not have: set-user-ID or set-group-ID (effective ids differ from the real
// ones) or file capabilities (AT_SECURE in the auxiliary vector the runtime
// was given: no /proc needed, a stage may run after a chroot).
func Secure() bool {
	if os.Getuid() != os.Geteuid() || os.Getgid() != os.Getegid() {
		return true
	}
	auxv, err := unix.Auxv()
	if err != nil {
		return true // cannot tell: assume the worst
	}
	for _, kv := range auxv {
		if kv[0] == 23 { // AT_SECURE, which x/sys/unix does not name
			return kv[1] != 0
		}
	}
	return false
}
