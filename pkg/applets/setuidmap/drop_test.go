package setuidmap

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/idmap"
	"golang.org/x/sys/unix"
)

// TestDropToCaller runs the drop in a child that is set up as a
// set-user-ID root execution would be (real uid the user's, effective 0),
// with several threads: the locked thread keeps only CAP_SETUID,
// CAP_SETGID and CAP_SETFCAP as the maps need them, every other thread
// keeps nothing, and every id is the caller's.
func TestDropToCaller(t *testing.T) {
	if u := os.Getenv("SETUIDMAP_DROP_TEST"); u != "" {
		dropChild(u)
		return
	}
	testutil.RequireRoot(t)
	u := testutil.Unprivileged(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDropToCaller$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SETUIDMAP_DROP_TEST="+strconv.Itoa(u.UID))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "drop ok\n") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func dropChild(us string) {
	uid, _ := strconv.Atoi(us)
	fail := func(f string, a ...any) { fmt.Printf("FAIL "+f+"\n", a...); os.Exit(1) }
	runtime.LockOSThread()
	// Busy other threads, so that the drop must reach them.
	for i := 0; i < 4; i++ {
		go func() {
			for {
				runtime.Gosched()
			}
		}()
	}
	if err := syscall.Setresuid(uid, 0, 0); err != nil {
		fail("setresuid: %v", err)
	}
	if !applet.Secure() {
		fail("not seen as secure")
	}
	maps := []*mapping{{kind: "uid", ranges: []idmap.Range{{Inside: 0, Outside: 0, Count: 1}}}, {kind: "gid", ranges: []idmap.Range{{Inside: 0, Outside: uint32(uid), Count: 1}}}}
	if err := dropToCaller(uid, uid, maps); err != nil {
		fail("drop: %v", err)
	}
	ids := fmt.Sprintf("%d %d %d %d", uid, uid, uid, uid)
	check := func(what, wprm, weff string) {
		self := "/proc/thread-self/status"
		if u, p, e := testutil.ThreadCaps(self); u != ids || p != wprm || e != weff {
			fail("%s: this thread: Uid %s CapPrm %s CapEff %s", what, u, p, e)
		}
		tids, _ := filepath.Glob("/proc/self/task/*/status")
		if len(tids) < 2 {
			fail("only %d threads", len(tids))
		}
		for _, p := range tids {
			if p == fmt.Sprintf("/proc/self/task/%d/status", unix.Gettid()) {
				continue
			}
			if u, pr, e := testutil.ThreadCaps(p); u != ids || pr != "0000000000000000" || e != "0000000000000000" {
				fail("%s: %s: Uid %s CapPrm %s CapEff %s", what, p, u, pr, e)
			}
		}
	}
	check("after the drop", "00000000800000c0", "0000000000000000")
	if err := setCaps(true, maps[1], maps); err != nil {
		fail("%v", err)
	}
	check("gid map", "00000000800000c0", "0000000000000040")
	if err := setCaps(true, maps[0], maps[:1]); err != nil {
		fail("%v", err)
	}
	check("uid map", "0000000080000080", "0000000080000080")
	if err := setCaps(true, nil, nil); err != nil {
		fail("%v", err)
	}
	check("done", "0000000000000000", "0000000000000000")
	// Privileges cannot come back.
	if err := syscall.Setresuid(0, 0, 0); err == nil {
		fail("setresuid(0) worked after the drop")
	}
	fmt.Println("drop ok")
}
