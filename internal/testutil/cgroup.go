package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Cgroup is a cgroup (version 2) of a test's own: the processes started
// into it (SysProcAttr: UseCgroupFD with Fd), and every process they
// start, stay in it whatever they do (a new session, a double fork, a
// parent that dies), so that Procs finds each one left behind and Kill
// ends them all. A process group or a session does not hold them: a
// helper that calls setsid leaves both.
type Cgroup struct {
	path string
	fd   int
}

var cgroupSeq atomic.Int64

// NewCgroup makes a cgroup under the test process's own (in the cgroup2
// hierarchy, wherever it is mounted), removed at cleanup after its
// processes are killed. It skips the test when there is no cgroup2
// hierarchy or the cgroup cannot be made.
func NewCgroup(t testing.TB) *Cgroup {
	t.Helper()
	RequireRoot(t)
	root, err := cgroup2Mount()
	if err != nil {
		t.Skipf("no cgroup2 hierarchy: %v", err)
	}
	own, err := ownCgroup2()
	if err != nil {
		t.Skipf("cgroup2: %v", err)
	}
	path := filepath.Join(root, own, fmt.Sprintf("nsbox-test-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(path)
		t.Fatalf("open %s: %v", path, err)
	}
	c := &Cgroup{path: path, fd: fd}
	t.Cleanup(func() {
		if left := c.Kill(5 * time.Second); len(left) > 0 {
			t.Errorf("cgroup %s: processes left after SIGKILL: %v", path, left)
		}
		unix.Close(fd)
		if err := os.Remove(path); err != nil {
			t.Errorf("remove cgroup: %v", err)
		}
	})
	return c
}

// Fd is a descriptor of the cgroup's directory, for
// syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: c.Fd()}.
func (c *Cgroup) Fd() int { return c.fd }

// Path is the cgroup's directory.
func (c *Cgroup) Path() string { return c.path }

// Procs returns the processes in the cgroup, zombies included (a zombie
// stays until its parent waits for it), sorted.
func (c *Cgroup) Procs() []int {
	b, err := os.ReadFile(filepath.Join(c.path, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// Describe returns a line per process of pids: its PID, state and command
// line, as the leak check prints them.
func Describe(pids []int) string {
	var lines []string
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			lines = append(lines, fmt.Sprintf("  pid %d (gone)", pid))
			continue
		}
		p, err := parseStat(b)
		if err != nil {
			continue
		}
		lines = append(lines, "  "+p.String())
	}
	return strings.Join(lines, "\n")
}

// Kill kills every process of the cgroup (cgroup.kill, or SIGKILL to each
// where the kernel lacks it) and waits up to timeout for it to be empty;
// it returns those left.
func (c *Cgroup) Kill(timeout time.Duration) []int {
	if err := os.WriteFile(filepath.Join(c.path, "cgroup.kill"), []byte("1"), 0); err != nil {
		for _, pid := range c.Procs() {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
	return c.WaitEmpty(timeout)
}

// WaitEmpty waits up to timeout for the cgroup to have no process, and
// returns those left.
func (c *Cgroup) WaitEmpty(timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for {
		left := c.Procs()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cgroup2Mount returns where the cgroup2 hierarchy is mounted.
func cgroup2Mount() (string, error) {
	ms, err := parseMountinfoFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	for _, m := range ms {
		if m.fstype == "cgroup2" {
			return m.point, nil
		}
	}
	return "", fmt.Errorf("no cgroup2 mount in /proc/self/mountinfo")
}

// ownCgroup2 returns the test process's cgroup in the cgroup2 hierarchy
// (the "0::PATH" line of /proc/self/cgroup).
func ownCgroup2() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("no cgroup2 line in /proc/self/cgroup")
}
