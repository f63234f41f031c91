package testutil

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// leakSettle is how long CheckNoLeaks keeps re-checking before it reports:
// the kernel tears some things down asynchronously (a veth goes away some
// time after its network namespace dies; a lazily unmounted tree; a child
// that is being reaped).
var leakSettle = 3 * time.Second

// CheckNoLeaks snapshots the state a test could leak and registers a
// t.Cleanup that fails the test (t.Errorf, with a diff) if any of it changed:
//
//   - mounts of the test process's mount namespace (/proc/self/mountinfo;
//     mount point, fs type and source are compared);
//   - child processes of the test process (new ones; zombies, i.e. children
//     nobody waited for, are reported separately);
//   - network links (/sys/class/net);
//   - files in /run/netns;
//   - the entries of each directory in extraDirs (for example a directory of
//     namespace pins).
//
// Call it at the start of the test, before Start and t.TempDir: cleanups
// run last-in first-out, so processes started later are killed and waited
// for before the check. It is process- and host-wide state: do not use it
// in tests that run in parallel with others that mount, add links or
// start processes. Test processes on one host take turns: the first
// CheckNoLeaks of a test process waits for the host-wide lock (see
// hostLock) and holds it until the process exits, so two `go test` runs
// (two packages, two developers) never see each other's state as a leak.
func CheckNoLeaks(t testing.TB, extraDirs ...string) {
	t.Helper()
	hostLock(t)
	before := takeSnapshot(extraDirs)
	t.Cleanup(func() {
		deadline := time.Now().Add(leakSettle)
		for {
			diff := before.diff(takeSnapshot(extraDirs))
			if diff == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("test leaked state:\n%s", diff)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// hostLockPath is the file whose flock serialises leak-checked test
// processes on this host.
const hostLockPath = "/tmp/nsbox-test.lock"

var hostLockOnce sync.Once

// hostLock takes an exclusive flock on hostLockPath once per process and
// never releases it: the kernel drops it when the process exits, however
// it exits.
func hostLock(t testing.TB) {
	hostLockOnce.Do(func() {
		f, err := os.OpenFile(hostLockPath, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o666)
		if err != nil {
			t.Logf("no host-wide test lock (%v): leak checks may see other test runs", err)
			return
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
			t.Logf("waiting for %s: another leak-checked test process runs", hostLockPath)
			if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
				t.Logf("no host-wide test lock (%v)", err)
			}
		}
		hostLockFile = f // kept open (and referenced) for the life of the process
	})
}

var hostLockFile *os.File

type snapshot struct {
	mounts   []string            // "mountpoint fstype source", sorted, may repeat
	children map[string]proc     // "pid starttime" -> proc
	links    []string            // /sys/class/net entries
	dirs     map[string][]string // dir -> entries (nil if it does not exist)
	errs     []string            // what could not be read
}

func takeSnapshot(extraDirs []string) snapshot {
	s := snapshot{dirs: map[string][]string{}}
	var err error
	if s.mounts, err = readMounts("/proc/self/mountinfo"); err != nil {
		s.errs = append(s.errs, err.Error())
	}
	s.children = map[string]proc{}
	procs, err := listProcs()
	if err != nil {
		s.errs = append(s.errs, err.Error())
	}
	me := os.Getpid()
	for _, p := range procs {
		if p.ppid == me {
			s.children[p.key()] = p
		}
	}
	s.links, _ = dirEntries("/sys/class/net")
	for _, d := range append([]string{"/run/netns"}, extraDirs...) {
		s.dirs[d], _ = dirEntries(d)
	}
	return s
}

// netnsRunDir returns after without the mount of /run/netns onto itself
// when before had none: "ip netns add" and "pin --netns" make it on first
// use and keep it for good (iproute2 never unmounts it), so it is the
// host's set-up, not a test's leak. A second one stacked on it still
// counts.
func netnsRunDir(before, after []string) []string {
	const runDir = "/run/netns "
	for _, m := range before {
		if strings.HasPrefix(m, runDir) {
			return after
		}
	}
	for i, m := range after {
		if strings.HasPrefix(m, runDir) {
			return append(after[:i:i], after[i+1:]...)
		}
	}
	return after
}

func (a snapshot) diff(b snapshot) string {
	var out strings.Builder
	for _, e := range b.errs {
		fmt.Fprintf(&out, "  (could not check: %s)\n", e)
	}
	if d := listDiff(a.mounts, netnsRunDir(a.mounts, b.mounts)); d != "" {
		fmt.Fprintf(&out, "mounts (mount point, fs type, source) in /proc/self/mountinfo:\n%s", d)
	}
	var live, zombies []string
	for k, p := range b.children {
		if _, ok := a.children[k]; ok {
			continue
		}
		if p.state == "Z" {
			zombies = append(zombies, "  "+p.String())
		} else {
			live = append(live, "  "+p.String())
		}
	}
	sort.Strings(live)
	sort.Strings(zombies)
	if len(live) > 0 {
		fmt.Fprintf(&out, "child processes still running:\n%s\n", strings.Join(live, "\n"))
	}
	if len(zombies) > 0 {
		fmt.Fprintf(&out, "zombie children (exited, never waited for):\n%s\n", strings.Join(zombies, "\n"))
	}
	if d := listDiff(a.links, b.links); d != "" {
		fmt.Fprintf(&out, "network links in /sys/class/net:\n%s", d)
	}
	dirs := make([]string, 0, len(a.dirs))
	for d := range a.dirs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if diff := listDiff(a.dirs[d], b.dirs[d]); diff != "" {
			fmt.Fprintf(&out, "files in %s:\n%s", d, diff)
		}
	}
	return out.String()
}

// listDiff compares two sorted multisets, returning "+ x" / "- x" lines.
func listDiff(a, b []string) string {
	count := map[string]int{}
	for _, x := range a {
		count[x]--
	}
	for _, x := range b {
		count[x]++
	}
	keys := make([]string, 0, len(count))
	for k, n := range count {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out strings.Builder
	for _, k := range keys {
		n := count[k]
		sign := "+ added  "
		if n < 0 {
			sign, n = "- removed", -n
		}
		for ; n > 0; n-- {
			fmt.Fprintf(&out, "  %s %s\n", sign, k)
		}
	}
	return out.String()
}

func dirEntries(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, nil
}

// readMounts returns "mountpoint fstype source" for every line of a
// mountinfo file, sorted.
func readMounts(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ms, err := parseMountinfo(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.point+" "+m.fstype+" "+m.source)
	}
	sort.Strings(out)
	return out, nil
}

type mountEntry struct {
	point, fstype, source string
}

// parseMountinfo parses proc(5) mountinfo lines:
// 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
func parseMountinfo(b []byte) ([]mountEntry, error) {
	var out []mountEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+2 >= len(f) {
			return nil, fmt.Errorf("malformed line %q", line)
		}
		out = append(out, mountEntry{
			point:  unescapeOctal(f[4]),
			fstype: f[sep+1],
			source: unescapeOctal(f[sep+2]),
		})
	}
	return out, sc.Err()
}

// unescapeOctal undoes the \040-style escaping of mountinfo fields.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// proc is what CheckNoLeaks and the process-group checks need from
// /proc/PID/stat.
type proc struct {
	pid, ppid, pgrp int
	state, comm     string
	start           uint64 // starttime, tells a reused PID apart
}

func (p proc) key() string { return fmt.Sprintf("%d %d", p.pid, p.start) }

func (p proc) String() string {
	cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.pid), "cmdline"))
	args := strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	if args == "" {
		args = "[" + p.comm + "]"
	}
	return fmt.Sprintf("pid %d (%s) state %s: %s", p.pid, p.comm, p.state, args)
}

// parseStat parses the fields of /proc/PID/stat that proc needs. comm may
// hold spaces and parentheses, so split at the last ')'.
func parseStat(b []byte) (proc, error) {
	s := string(b)
	open := strings.IndexByte(s, '(')
	closeIdx := strings.LastIndexByte(s, ')')
	if open < 0 || closeIdx < open {
		return proc{}, fmt.Errorf("malformed stat %q", s)
	}
	var p proc
	var err error
	if p.pid, err = strconv.Atoi(strings.TrimSpace(s[:open])); err != nil {
		return proc{}, fmt.Errorf("malformed stat %q", s)
	}
	p.comm = s[open+1 : closeIdx]
	// Fields after comm: 3 state, 4 ppid, 5 pgrp, ... 22 starttime.
	f := strings.Fields(s[closeIdx+1:])
	if len(f) < 20 {
		return proc{}, fmt.Errorf("malformed stat %q", s)
	}
	p.state = f[0]
	p.ppid, _ = strconv.Atoi(f[1])
	p.pgrp, _ = strconv.Atoi(f[2])
	p.start, _ = strconv.ParseUint(f[19], 10, 64)
	return p, nil
}

// listProcs reads /proc/*/stat; processes that exit meanwhile are skipped.
func listProcs() ([]proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []proc
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		p, err := parseStat(b)
		if err != nil {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// groupMembers returns the live (non-zombie) processes in process group pgid.
func groupMembers(pgid int) []proc {
	procs, _ := listProcs()
	var out []proc
	for _, p := range procs {
		if p.pgrp == pgid && p.state != "Z" {
			out = append(out, p)
		}
	}
	return out
}
