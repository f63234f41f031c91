package nsenter_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

// This file tests util-linux 2.43's ways of naming what to enter without
// a PID alone: -t PID:INODE and --TYPE=:NSID. The system's util-linux
// (2.38) has neither (TestUtilLinuxDiffers records what it does instead).

// pidfdInode is the inode of a pidfd of pid: what util-linux's getino
// prints, and -t PID:INODE takes.
func pidfdInode(t *testing.T, pid int) uint64 {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil || sfs.Type != 0x50494446 {
		t.Skip("pidfds are not pidfs files (Linux < 6.9): no unique inode")
	}
	return st.Ino
}

// TestTargetInode: -t PID:INODE enters only while PID is the process whose
// pidfd has that inode.
func TestTargetInode(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := sharedDir(t)
	target := rootTarget(t, dir)
	u := testutil.Unprivileged(t)
	rootless := startTarget(t, testutil.Opts{User: u}, []string{"-r", "-n", "-u", "-i"}, "hostname rl")
	at := func(pid int, ino uint64) string { return fmt.Sprintf("%d:%d", pid, ino) }
	ino := pidfdInode(t, target)
	// A process that has exited: its PID and inode name nothing any more.
	gone := testutil.Start(t, testutil.Opts{}, "sleep", "600")
	goneAt := at(gone.Pid(), pidfdInode(t, gone.Pid()))
	gone.Stop()
	noFd := func(pid int) string {
		return fmt.Sprintf("nsenter: failed to obtain a valid file descriptor for PID %d: No such process\n", pid)
	}
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		r := testutil.Run(t, b.nsenter("-t", at(target, ino), "-u", "hostname")...)
		expect(t, r, "tgt\n", "", 0)
		// Every file under /proc/PID, and the pidfd join.
		r = testutil.Run(t, b.nsenter("--target="+at(target, ino), "-a", "-w", "-e", "sh", "-c", "hostname; pwd; "+readlinkNs("net", "pid", "mnt"))...)
		expect(t, r, "tgt\n"+dir+"/d\n"+nsLinks(t, target, "net", "pid", "mnt"), "", 0)
		r = testutil.Run(t, b.nsenter("-t", at(target, ino), "--net=/proc/"+strconv.Itoa(target)+"/ns/net", "-u", "-S", "follow", "sh", "-c", "hostname; id -u")...)
		expect(t, r, "tgt\n0\n", "", 0)
		r = testutil.Run(t, b.nsenter("-t", at(target, ino+1), "-u", "true")...)
		expect(t, r, "", noFd(target), 1)
		r = testutil.Run(t, b.nsenter("-t", goneAt, "-u", "true")...)
		expect(t, r, "", noFd(gone.Pid()), 1)
		// The owner of a rootless container, through the C stage.
		r = testutil.RunAs(t, u, b.nsenter("-t", at(rootless, pidfdInode(t, rootless)), "-U", "-n", "-u", "sh", "-c", "id -u; hostname")...)
		expectCgo(t, b, r, "0\nrl\n", "", 0)
		r = testutil.RunAs(t, u, b.nsenter("-t", at(rootless, pidfdInode(t, rootless)+1), "-U", "true")...)
		expect(t, r, "", noFd(rootless), 1)
	})
}

// nsID is the 64-bit id of the namespace of file (what NS_GET_ID gives),
// read from the nsfs file handle the kernel makes for it (Linux 6.18+).
func nsID(file string) (uint64, error) {
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	h, _, err := unix.NameToHandleAt(fd, "", unix.AT_EMPTY_PATH|0x200) // AT_HANDLE_FID
	if err != nil {
		return 0, err
	}
	if h.Type() != 0xf1 || h.Size() < 8 { // FILEID_NSFS
		return 0, fmt.Errorf("not an nsfs handle: type %#x", h.Type())
	}
	return binary.NativeEndian.Uint64(h.Bytes()), nil
}

// kernelAtLeast tells whether the running kernel is major.minor or later.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	t.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		t.Fatalf("kernel release %q", u.Release)
	}
	return ma > major || ma == major && mi >= minor
}

// TestNsID: --TYPE=:NSID opens a namespace by its 64-bit id through an nsfs
// file handle. Linux 6.19 decodes a handle that holds the id alone; an
// older kernel is refused with a message that says so (util-linux 2.43
// reports the kernel's error). A file whose name starts with ':' is
// reached through "./".
func TestNsID(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := sharedDir(t)
	target := rootTarget(t, dir)
	netFile := fmt.Sprintf("/proc/%d/ns/net", target)
	id, err := nsID(netFile)
	if err != nil {
		t.Logf("no namespace ids on this kernel (%v): only the refusal is tested", err)
		id = 1
	}
	byID := kernelAtLeast(t, 6, 19)
	tooOld := func(id uint64) string {
		return fmt.Sprintf("nsenter: cannot open namespace of id %d: this kernel cannot open a namespace by its id (Linux 6.19 or later can)\n", id)
	}
	// ":x", a file whose name looks like an id: the target's net
	// namespace, pinned.
	colon := filepath.Join(dir, ":"+strconv.FormatUint(id, 10))
	if err := os.WriteFile(colon, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(netFile, colon, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(colon, unix.MNT_DETACH)
	builds(t, func(t *testing.T, b build) {
		testutil.CheckNoLeaks(t)
		links := testutil.Run(t, b.nsenter("-t", strconv.Itoa(target), "-n", "ip", "-o", "link")...)
		testutil.Must(t, links, 0)
		sid := strconv.FormatUint(id, 10)
		for _, c := range []struct {
			args     []string
			out, err string // with a kernel that opens namespaces by id
			code     int
			id       uint64 // the id named, for an older kernel's refusal
		}{
			{[]string{"--net=:" + sid, "ip", "-o", "link"}, links.Stdout, "", 0, id},
			{[]string{"-t", strconv.Itoa(target), "-u", "-n:" + sid, "sh", "-c", "hostname; ip -o link"}, "tgt\n" + links.Stdout, "", 0, id},
			{[]string{"--uts=:" + sid, "true"}, "", "nsenter: reassociate to namespace 'ns/uts' failed: Invalid argument\n", 1, id},
			{[]string{"--net=:18446744073709551615", "true"}, "", "nsenter: cannot open namespace of id 18446744073709551615: Stale file handle\n", 1, 1<<64 - 1},
		} {
			r := testutil.RunWith(t, testutil.Opts{Dir: dir}, b.nsenter(c.args...)...)
			if byID {
				expect(t, r, c.out, c.err, c.code)
			} else {
				expect(t, r, "", tooOld(c.id), 1)
			}
		}
		r := testutil.Run(t, b.nsenter("--net=:x", "true")...)
		expect(t, r, "", "nsenter: failed to parse nsid: x\n", 1)
		// "./" makes a name starting with ':' a file, in the fast path too.
		for _, args := range [][]string{{"--net=./" + filepath.Base(colon)}, {"-n./" + filepath.Base(colon)}} {
			r := testutil.RunWith(t, testutil.Opts{Dir: dir}, b.nsenter(append(args, "ip", "-o", "link")...)...)
			expect(t, r, links.Stdout, "", 0)
		}
	})
}
