package nsexec

import (
	"encoding/binary"
	"fmt"
	"os"

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
			fmt.Fprintf(os.Stderr, "%s: %s\n", p.Name, Message(e))
		}
		return e.Code, true
	}
	fmt.Fprintf(os.Stderr, "nsbox: unknown internal stage %q\n", stage)
	return 1, true
}

// secure reports AT_SECURE from the auxiliary vector: set for set-user-ID,
// set-group-ID and file-capability executions.
func secure() bool {
	if os.Getuid() != os.Geteuid() || os.Getgid() != os.Getegid() {
		return true
	}
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return true // cannot tell: refuse
	}
	for i := 0; i+16 <= len(b); i += 16 {
		k, v := binary.NativeEndian.Uint64(b[i:]), binary.NativeEndian.Uint64(b[i+8:])
		if k == 23 { // AT_SECURE
			return v != 0
		}
	}
	return false
}
