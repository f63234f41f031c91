package testutil

import (
	"regexp"
	"testing"
)

// initLine matches a line that GODEBUG=inittrace=1 makes the Go runtime
// print to stderr as it starts: a run without one never started it.
var initLine = regexp.MustCompile(`(?m)^init \S+ @.*\n`)

// RunPath runs argv as RunWith does, with GODEBUG=inittrace=1 added to its
// environment, and with _NSBOX_NOFAST=1 when goApplet is set (the cgo
// build's C fast path turned off, docs/internals.md). It returns the result
// with the Go runtime's init lines taken out of Stderr, and whether there
// were any: whether the Go runtime started.
func RunPath(t testing.TB, o Opts, goApplet bool, argv ...string) (r Result, started bool) {
	t.Helper()
	o.Env = append(append([]string(nil), o.Env...), "GODEBUG=inittrace=1")
	if goApplet {
		o.Env = append(o.Env, "_NSBOX_NOFAST=1")
	}
	r = RunWith(t, o, argv...)
	started = initLine.MatchString(r.Stderr)
	r.Stderr = initLine.ReplaceAllString(r.Stderr, "")
	return r, started
}

// CheckPath reports (t.Errorf) a pair of runs of label, one as is and one
// with goApplet (RunPath), that did not take the paths they should: the
// Go applet's run must start the Go runtime; the first must not when fast
// (the fast path carries the command out) and must when not (the fast path
// left it to the Go applet).
func CheckPath(t testing.TB, label string, fast, fastStarted, goStarted bool) {
	t.Helper()
	switch {
	case !goStarted:
		t.Errorf("%s with _NSBOX_NOFAST=1: the Go runtime did not start (GODEBUG ignored?)", label)
	case fast && fastStarted:
		t.Errorf("%s: the Go runtime started: the fast path was not taken", label)
	case !fast && !fastStarted:
		t.Errorf("%s: taken by the fast path, which should have left it to the Go applet", label)
	}
}
