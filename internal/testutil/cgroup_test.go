package testutil

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCgroupFindsDetached: a process that leaves its parent's session and
// outlives it is still in the cgroup, Describe names it, and Kill ends it.
func TestCgroupFindsDetached(t *testing.T) {
	CheckNoLeaks(t)
	c := NewCgroup(t)
	cmd := exec.Command("sh", "-c", "setsid sleep 60 </dev/null >/dev/null 2>&1 &")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: c.Fd()}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	var procs []int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		procs = c.Procs()
		if len(procs) == 1 && ExecComm(procs[0]) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cgroup %s: %v, want the detached sleep alone", c.Path(), procs)
		}
	}
	if d := Describe(procs); !strings.Contains(d, "sleep 60") {
		t.Errorf("Describe: %q", d)
	}
	if left := c.Kill(5 * time.Second); len(left) > 0 {
		t.Errorf("Kill left %v", left)
	}
	if slices.Contains(c.Procs(), procs[0]) {
		t.Errorf("pid %d still in the cgroup", procs[0])
	}
}

// TestHostStateDiff: a file added to a directory watched is a difference
// until it is gone again; Settle waits for that.
func TestHostStateDiff(t *testing.T) {
	dir := t.TempDir()
	base := TakeHostState(dir)
	if d := base.Diff(TakeHostState(dir)); d != "" {
		t.Fatalf("no change, yet: %s", d)
	}
	f := dir + "/x"
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if d := base.Diff(TakeHostState(dir)); !strings.Contains(d, "+ added   x") {
		t.Errorf("a new file: %q", d)
	}
	time.AfterFunc(50*time.Millisecond, func() { os.Remove(f) })
	if d := base.Settle(5 * time.Second); d != "" {
		t.Errorf("Settle: %s", d)
	}
}
