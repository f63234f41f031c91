package nsexec

import (
	"fmt"
	"os"

	"github.com/nsbox/nsbox/pkg/errtext"
	"github.com/nsbox/nsbox/pkg/initproc"
)

// The stages of a plan, for reexec.Register by the applet that starts
// them (unshare). The cgo build runs "self" and "child" in the C
// constructor instead; "init" is always Go's.

// ChildStage carries out in Go the plan that Environ put in this process's
// environment and argv, and execs the program: the child of --fork in a
// build without the C constructor. It returns the exit status when the
// plan fails.
func ChildStage() int {
	p, err := decodeStage()
	if err != nil {
		return 1
	}
	err = p.Exec()
	e, ok := err.(*Error)
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: %v\n", p.Name, err)
		return 1
	}
	if e.Msg != "" || e.Err != nil {
		fmt.Fprintf(os.Stderr, "%s: %s\n", p.Name, errtext.Message(e))
	}
	return e.Code
}

// InitStage runs the program of the plan under the minimal init (unshare
// --init), as PID 1 of the new pid namespace, and returns its status.
func InitStage() int {
	p, err := decodeStage()
	if err != nil {
		return 1
	}
	return initproc.Run(p.Name, p.Path, p.Argv, p.Env)
}

func decodeStage() (*Plan, error) {
	p, _, err := Decode(os.Environ(), os.Args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nsbox: %v\n", err)
	}
	return p, err
}
