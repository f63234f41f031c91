package mkbridge

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

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/applet"
)

// TestDropToNetAdmin runs the unprivileged path's drop in a child set up
// as a set-user-ID root execution would be (real uid the user's,
// effective 0), with several threads: after the drop the locked thread
// may raise CAP_NET_ADMIN and CAP_SYS_ADMIN, nothing effective; after the
// inside sockets are open (none here) it holds CAP_NET_ADMIN alone; every
// other thread holds nothing throughout; every id is the caller's.
func TestDropToNetAdmin(t *testing.T) {
	if u := os.Getenv("MKBRIDGE_DROP_TEST"); u != "" {
		dropChild(u)
		return
	}
	testutil.RequireRoot(t)
	u := testutil.Unprivileged(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDropToNetAdmin$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MKBRIDGE_DROP_TEST="+strconv.Itoa(u.UID))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "drop ok\n") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func dropChild(us string) {
	uid, _ := strconv.Atoi(us)
	fail := func(f string, a ...any) { fmt.Printf("FAIL "+f+"\n", a...); os.Exit(1) }
	runtime.LockOSThread()
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
	if err := applet.DropToCaller(uid, uid, applet.CapNetAdmin|applet.CapSysAdmin); err != nil {
		fail("drop: %v", err)
	}
	ids := fmt.Sprintf("%d %d %d %d", uid, uid, uid, uid)
	check := func(what, wprm, weff string) {
		if u, p, e := testutil.ThreadCaps("/proc/thread-self/status"); u != ids || p != wprm || e != weff {
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
	check("after the drop", "0000000000201000", "0000000000000000")
	if err := openInside(nil, false); err != nil {
		fail("openInside: %v", err)
	}
	check("CAP_NET_ADMIN alone", "0000000000001000", "0000000000001000")
	if err := applet.SetCaps(applet.CapNetAdmin|applet.CapSysAdmin, applet.CapSysAdmin); err == nil {
		fail("CAP_SYS_ADMIN came back")
	}
	if err := syscall.Setresuid(0, 0, 0); err == nil {
		fail("setresuid(0) worked after the drop")
	}
	fmt.Println("drop ok")
}
