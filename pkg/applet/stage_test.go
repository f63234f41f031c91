package applet

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/pkg/reexec"
)

// The test binary doubles as a main: with APPLET_TEST_MAIN set it is the
// multi-call main ("multi") or a standalone tapplet ("one"), so that the
// tests see what a re-executed nsbox does with a stage marker.
func TestMain(m *testing.M) {
	reexec.Register("tstage", func() int {
		fmt.Printf("tstage ran, args %q\n", os.Args[1:])
		return 5
	})
	switch os.Getenv("APPLET_TEST_MAIN") {
	case "multi":
		Main()
	case "one":
		MainOne("tapplet")
	}
	os.Exit(m.Run())
}

func TestMainStage(t *testing.T) {
	tests := []struct {
		name   string
		main   string
		argv0  string
		stage  string // "-": no marker
		code   int
		out    string
		errOut string
	}{
		{"standalone, stage", "one", "tapplet", "tstage", 5, "tstage ran, args [\"x\"]\n", ""},
		{"standalone, no stage", "one", "tapplet", "-", 0, "ok\n", ""},
		{"multi-call by argv0, stage", "multi", "tapplet", "tstage", 5, "tstage ran, args [\"x\"]\n", ""},
		{"multi-call as nsbox, stage", "multi", "nsbox", "tstage", 5, "tstage ran, args [\"x\"]\n", ""},
		{"multi-call, no stage", "multi", "tapplet", "-", 0, "ok\n", ""},
		{"standalone, unknown stage", "one", "tapplet", "nosuch", 1, "", "nsbox: unknown internal stage \"nosuch\"\n"},
		{"multi-call, empty marker", "multi", "tapplet", "", 1, "", "nsbox: unknown internal stage \"\"\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "x")
			cmd.Args[0] = tc.argv0
			cmd.Env = append(os.Environ(), "APPLET_TEST_MAIN="+tc.main)
			if tc.stage != "-" {
				cmd.Env = append(cmd.Env, reexec.Marker+"="+tc.stage)
			}
			var out, errb strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || out.String() != tc.out || errb.String() != tc.errOut {
				t.Errorf("got %d, stdout %q, stderr %q; want %d, %q, %q",
					code, out.String(), errb.String(), tc.code, tc.out, tc.errOut)
			}
		})
	}
}

// Run, which tests and "nsbox --help APPLET" call, is the applet alone: a
// stage marker is for the mains.
func TestRunIgnoresStage(t *testing.T) {
	t.Setenv(reexec.Marker, "tstage")
	var out, errb strings.Builder
	if code := Run(Lookup("tapplet"), nil, nil, &out, &errb); code != 0 || out.String() != "ok\n" {
		t.Errorf("Run = %d, stdout %q, stderr %q; want 0, \"ok\\n\"", code, out.String(), errb.String())
	}
}
