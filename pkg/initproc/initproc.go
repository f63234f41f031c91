// Package initproc is a minimal init: it starts one program, reaps every
// process that dies under it, forwards termination signals to the program
// and exits with the program's status.
//
// A Go process that is PID 1 of a pid namespace and has no signal handling
// of its own exits with status 2 on SIGTERM (the runtime's handler re-raises
// a signal that init ignores, then exits): Run therefore catches every
// signal it forwards and never relies on default actions.
package initproc

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/errtext"
	"github.com/nsbox/nsbox/pkg/execpath"
)

// Forwarded are the signals init passes on to the program.
var Forwarded = []os.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2}

// Run starts path with argv and env and supervises it. It returns the
// program's exit status, or 128+S when a signal S killed it; 127/126 when it
// could not be executed (after printing "name: failed to execute ...").
func Run(name, path string, argv, env []string) int {
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, append([]os.Signal{unix.SIGCHLD}, Forwarded...)...)
	if os.Getpid() != 1 {
		// Orphans of the program come to us instead of the real init.
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}
	full, err := execpath.LookPath(path, env)
	var child int
	if err == nil {
		child, err = syscall.ForkExec(full, argv, &syscall.ProcAttr{Env: env, Files: []uintptr{0, 1, 2}})
	}
	if err != nil {
		code := 126
		if errors.Is(err, unix.ENOENT) {
			code = 127
		}
		fmt.Fprintf(os.Stderr, "%s: failed to execute %s: %s\n", name, path, errtext.Strerror(err))
		return code
	}
	for s := range sigs {
		if s != unix.SIGCHLD {
			unix.Kill(child, s.(syscall.Signal))
			continue
		}
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if err == unix.EINTR {
				continue
			}
			if pid <= 0 || err != nil {
				break
			}
			if pid != child {
				continue
			}
			switch {
			case ws.Exited():
				return ws.ExitStatus()
			case ws.Signaled():
				return 128 + int(ws.Signal())
			}
		}
	}
	return 1
}
