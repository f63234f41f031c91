package execpath

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	sh := "/bin/sh"
	var out, errb bytes.Buffer
	st, err := Run(sh, []string{"sh", "-c", `read -r a; echo "out:$a:$X"; echo err >&2; exit 3`}, []string{"X=env"}, []byte("in\n"), &out, &errb)
	if err != nil || st.Success() || st.ExitCode() != 3 || out.String() != "out:in:env\n" || errb.String() != "err\n" {
		t.Errorf("Run: %v, %v, stdout %q, stderr %q", st, err, out.String(), errb.String())
	}
	if st.String() != "exit status 3" {
		t.Errorf("state %q, want os/exec's \"exit status 3\"", st.String())
	}
	// nil stdin is /dev/null, nil stdout discards, nil env is this process's.
	t.Setenv("NSBOX_RUN_TEST", "inherited")
	out.Reset()
	st, err = Run(sh, []string{"sh", "-c", `cat; echo "$NSBOX_RUN_TEST" >&2`}, nil, nil, nil, &out)
	if err != nil || !st.Success() || out.String() != "inherited\n" {
		t.Errorf("Run with nils: %v, %v, %q", st, err, out.String())
	}
	// A large input the program does not read, a large output.
	out.Reset()
	st, err = Run(sh, []string{"sh", "-c", "head -c 300000 /dev/zero"}, nil, bytes.Repeat([]byte("x"), 1<<20), &out, os.Stderr)
	if err != nil || !st.Success() || out.Len() != 300000 {
		t.Errorf("Run, large: %v, %v, %d bytes", st, err, out.Len())
	}
	if _, err := Run("/nonexistent/prog", []string{"prog"}, nil, []byte("x"), &out, nil); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Run of a missing program: %v", err)
	}
	st, err = Run(sh, []string{"sh", "-c", "kill -9 $$"}, nil, nil, nil, nil)
	if err != nil || st.String() != "signal: killed" {
		t.Errorf("Run, killed: %v, %v", st, err)
	}
}
