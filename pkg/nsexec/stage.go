package nsexec

import (
	"fmt"
	"github.com/nsbox/nsbox/pkg/errtext"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/initproc"
)

// Stage runs the stage named by EnvStage, if any, in this Go process: the
// minimal init, or (in a build without the C constructor) a "self" or
// "child" stage. It returns handled=false when no stage was asked for.
func Stage() (code int, handled bool) {
	stage := os.Getenv(EnvStage)
	if stage == "" {
		return 0, false
	}
	if secure() {
		fmt.Fprintln(os.Stderr, "nsbox: internal stage refused: the process is set-user-ID or has file capabilities")
		return 126, true
	}
	p, stage, err := Decode(os.Environ(), os.Args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nsbox: %v\n", err)
		return 1, true
	}
	switch stage {
	case "init":
		return initproc.Run(p.Name, p.Path, p.Argv, p.Env), true
	case "self", "child":
		err := p.Exec()
		e, ok := err.(*Error)
		if !ok {
			fmt.Fprintf(os.Stderr, "%s: %v\n", p.Name, err)
			return 1, true
		}
		if e.Msg != "" || e.Err != nil {
			fmt.Fprintf(os.Stderr, "%s: %s\n", p.Name, errtext.Message(e))
		}
		return e.Code, true
	}
	if f := stages[stage]; f != nil {
		return f(p), true
	}
	fmt.Fprintf(os.Stderr, "nsbox: unknown internal stage %q\n", stage)
	return 1, true
}

// stages are internal stages that applets add (RegisterStage).
var stages = map[string]func(p *Plan) int{}

// RegisterStage adds a Go stage named name: Stage runs f with the decoded
// plan (its environment holds the stage's own variables, EnvPrefix
// included) and exits with what f returns.
func RegisterStage(name string, f func(p *Plan) int) { stages[name] = f }

// secure reports AT_SECURE from the auxiliary vector the runtime was given
// (no /proc needed: a stage may run after a chroot): set for set-user-ID,
// set-group-ID and file-capability executions.
func secure() bool {
	if os.Getuid() != os.Geteuid() || os.Getgid() != os.Getegid() {
		return true
	}
	auxv, err := unix.Auxv()
	if err != nil {
		return true // cannot tell: refuse
	}
	for _, kv := range auxv {
		if kv[0] == 23 { // AT_SECURE
			return kv[1] != 0
		}
	}
	return false
}
