package lsns_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

// These tests hold network namespaces the ways issue 16 names: by a
// descriptor opened through a pin that is then removed (ip netns add,
// open, ip netns delete), by a descriptor on a pin that exists only in
// another process's mount namespace, by a socket, and by a pin with an
// id (ip netns set). util-linux 2.43 lists each with NPROCS 0 and the
// NETNSID the kernel gives it (sys-utils/lsns.c: namespaces held by a
// descriptor are recognised by the nsfs device, and the id is asked
// through the namespace file); 2.38, installed here, misses them, so the
// expected rows are written out, and the rest of the listing is compared
// with 2.38.

// netns makes the named network namespace nsboxtest-NAME-PID (ip netns
// add), gives it the id nsid in ours when nsid >= 0 (ip netns set), and
// deletes it at cleanup if it is still there. It returns the pin's path
// and the namespace's inode.
func netns(t *testing.T, name string, nsid int) (path, inode string) {
	t.Helper()
	name = fmt.Sprintf("nsboxtest-%s-%d", name, os.Getpid())
	if r := testutil.Run(t, "ip", "netns", "add", name); r.Code != 0 {
		t.Fatalf("ip netns add %s: %v", name, r)
	}
	path = "/run/netns/" + name
	t.Cleanup(func() {
		if _, err := os.Stat(path); err == nil {
			testutil.Run(t, "ip", "netns", "delete", name)
		}
	})
	if nsid >= 0 {
		if r := testutil.Run(t, "ip", "netns", "set", name, strconv.Itoa(nsid)); r.Code != 0 {
			t.Fatalf("ip netns set %s %d: %v", name, nsid, r)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return path, strconv.FormatUint(st.Ino, 10)
}

func netnsDelete(t *testing.T, path string) {
	t.Helper()
	if r := testutil.Run(t, "ip", "netns", "delete", filepath.Base(path)); r.Code != 0 {
		t.Fatalf("ip netns delete %s: %v", path, r)
	}
}

// freeNSIDs are n ids not assigned in our network namespace, from 4242
// up (ip netns list-id lists those that are).
func freeNSIDs(t *testing.T, n int) []int {
	t.Helper()
	r := testutil.Run(t, "ip", "netns", "list-id")
	used := map[string]bool{}
	for _, l := range strings.Split(r.Stdout, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "nsid" {
			used[f[1]] = true
		}
	}
	var ids []int
	for id := 4242; len(ids) < n; id++ {
		if !used[strconv.Itoa(id)] {
			ids = append(ids, id)
		}
	}
	return ids
}

// holder runs script in sh, which says "ready" once it holds what it
// holds and then execs sleep; it returns when the sleep runs.
func holder(t *testing.T, script string) *testutil.Proc {
	t.Helper()
	p := testutil.Start(t, testutil.Opts{}, "sh", "-c", script)
	p.WaitOutput("ready", 5*time.Second)
	return p.WaitExec(t, "sleep", 5*time.Second)
}

// TestHeldNamespacesNETNSID is the reproduction, and the other
// holders of a namespace without processes.
func TestHeldNamespacesNETNSID(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	if _, err := os.Stat("/usr/sbin/ip"); err != nil {
		testutil.HaveUtilLinux(t, "ip")
	}
	ids := freeNSIDs(t, 4)
	// a descriptor opened through a pin that is gone
	fdPin, fdIno := netns(t, "fd", ids[0])
	holder(t, "exec 3<"+fdPin+" && echo ready && exec sleep 120")
	netnsDelete(t, fdPin)
	// a descriptor on a pin in another mount namespace only
	dir := t.TempDir()
	hidden := filepath.Join(dir, "hidden")
	if err := os.WriteFile(hidden, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mp := holder(t, "exec unshare -m --propagation private sh -c 'unshare --net="+hidden+" true && exec 3<"+hidden+" && echo ready && exec sleep 120'")
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/fd/3", mp.Pid()), &st); err != nil {
		t.Fatal(err)
	}
	hiddenIno := strconv.FormatUint(st.Ino, 10)
	// a socket in a namespace whose pin is gone
	sockPin, sockIno := netns(t, "sock", ids[1])
	sock := socketIn(t, sockPin)
	defer unix.Close(sock)
	netnsDelete(t, sockPin)
	// a pin with an id, and one without
	pin, pinIno := netns(t, "pin", ids[2])
	_, bareIno := netns(t, "bare", -1)

	want := map[string]string{
		fdIno:     fmt.Sprintf("%s net 0  root %d ", fdIno, ids[0]),
		hiddenIno: hiddenIno + " net 0  root unassigned ",
		sockIno:   fmt.Sprintf("%s net 0  root %d ", sockIno, ids[1]),
		pinIno:    fmt.Sprintf("%s net 0  root %d %s", pinIno, ids[2], pin),
		bareIno:   bareIno + " net 0  root unassigned /run/netns/" + fmt.Sprintf("nsboxtest-bare-%d", os.Getpid()),
	}
	for _, nb := range nsboxes(t) {
		for ino, row := range want {
			// found in the list, by -Q, by -P, and as a namespace argument
			for _, args := range [][]string{
				{"-t", "net", "-n", "-r", "-o", "NS,TYPE,NPROCS,PID,USER,NETNSID,NSFS", "-Q", "NS == " + ino},
				{"-P", "-n", "-r", "-o", "NS,TYPE,NPROCS,PID,USER,NETNSID,NSFS", "-Q", "NS == " + ino},
			} {
				r := run(t, nil, nb.cmd(args...))
				if r.code != 0 || r.err != "" || r.out != row+"\n" {
					t.Errorf("%s lsns %q: exit %d, %q%s\nwant %q", nb.name, args, r.code, r.out, r.err, row+"\n")
				}
			}
			if r := run(t, nil, nb.cmd(ino)); r.code != 0 || r.err != "" || r.out != "" {
				t.Errorf("%s lsns %s: exit %d, %q%s", nb.name, ino, r.code, r.out, r.err)
			}
		}
		// NETNSID in a filter that does not show it
		for i, ino := range []string{fdIno, sockIno, pinIno} {
			args := []string{"-n", "-o", "NS", "-Q", fmt.Sprintf("NETNSID == '%d'", ids[i])}
			if r := run(t, nil, nb.cmd(args...)); r.code != 0 || r.out != ino+"\n" {
				t.Errorf("%s lsns %q: exit %d, %q%s, want %s", nb.name, args, r.code, r.out, r.err, ino)
			}
		}
		// the default listing's row (NS TYPE NPROCS PID USER COMMAND)
		r := run(t, nil, nb.cmd("-n", "-Q", "NS == "+fdIno))
		if f := strings.Fields(r.out); len(f) != 4 || f[0] != fdIno || f[1] != "net" || f[2] != "0" || f[3] != "root" {
			t.Errorf("%s lsns -Q 'NS == %s': %q", nb.name, fdIno, r.out)
		}
	}
	// Everything else is util-linux 2.38's: the listing without the rows
	// of namespaces without processes (these above, and those that tests
	// running beside this one hold), which 2.38 does not show.
	compareWithProcesses(t, "-t", "net", "-l", "-o", "NS,TYPE,NPROCS,PID,USER,NETNSID,COMMAND")
}

// compareWithProcesses runs args, whose third column is NPROCS, through
// util-linux 2.38 and nsbox and wants nsbox's output, without the rows of
// namespaces without processes, to be 2.38's (retried while the host's
// processes move).
func compareWithProcesses(t *testing.T, args ...string) {
	t.Helper()
	ul := utilLinux(t)
	for _, nb := range nsboxes(t) {
		var want, got result
		for i := 0; i < 20; i++ {
			want = run(t, nil, ul.cmd(args...))
			got = run(t, nil, nb.cmd(args...))
			var kept []string
			for _, l := range strings.SplitAfter(got.out, "\n") {
				if f := strings.Fields(l); len(f) < 3 || f[2] != "0" {
					kept = append(kept, l)
				}
			}
			got.out = strings.Join(kept, "")
			if got == want {
				break
			}
		}
		if got != want {
			t.Errorf("%s lsns %s: differs from util-linux\n--- util-linux:\n%s%s--- nsbox:\n%s%s", nb.name, strings.Join(args, " "), want.out, want.err, got.out, got.err)
		}
	}
}
