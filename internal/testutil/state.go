package testutil

import "time"

// HostState is what CheckNoLeaks compares (the test process's mounts and
// children, the links, /run/netns and extra directories), taken at one
// moment, for a test that compares it itself, many times over (the fault
// injection: after each kill). Take the host-wide lock first
// (CheckNoLeaks does).
type HostState struct {
	s    snapshot
	dirs []string
}

// TakeHostState reads the state now, with the entries of each of
// extraDirs.
func TakeHostState(extraDirs ...string) HostState {
	return HostState{takeSnapshot(extraDirs), extraDirs}
}

// Diff describes what changed from a to b, a line each ("" when nothing
// did), as CheckNoLeaks reports it.
func (a HostState) Diff(b HostState) string { return a.s.diff(b.s) }

// Settle compares the state now with a (the same directories), again and
// again for up to timeout while it differs (the kernel finishes some
// removals after the call that asked for them: a namespace's links go
// when it is freed), and returns the last difference ("" when it came
// back to a).
func (a HostState) Settle(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		d := a.Diff(TakeHostState(a.dirs...))
		if d == "" || time.Now().After(deadline) {
			return d
		}
		time.Sleep(10 * time.Millisecond)
	}
}
