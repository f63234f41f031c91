package mkbridge

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/applet"
)

// TestDropToNetAdmin runs the unprivileged path's drop in a child set up
// as a set-user-ID root execution would be (real uid the user's,
// effective 0), with several threads: after the drop the locked thread
// may raise CAP_NET_ADMIN and CAP_SYS_ADMIN, nothing effective; after the
// inside sockets are open (none here) it holds CAP_NET_ADMIN alone, and
// CAP_SYS_ADMIN cannot come back; every other thread holds nothing
// throughout; every id is the caller's.
func TestDropToNetAdmin(t *testing.T) {
	testutil.SetuidChild(t, func(uid int) error {
		if !applet.Secure() {
			return fmt.Errorf("not seen as secure")
		}
		if err := applet.DropToCaller(uid, uid, applet.CapNetAdmin|applet.CapSysAdmin); err != nil {
			return fmt.Errorf("drop: %v", err)
		}
		if err := testutil.CheckThreads(uid, "0000000000201000", "0000000000000000"); err != nil {
			return fmt.Errorf("after the drop: %v", err)
		}
		if err := openInside(nil, false); err != nil {
			return fmt.Errorf("openInside: %v", err)
		}
		if err := testutil.CheckThreads(uid, "0000000000001000", "0000000000001000"); err != nil {
			return fmt.Errorf("CAP_NET_ADMIN alone: %v", err)
		}
		if err := applet.SetCaps(applet.CapNetAdmin|applet.CapSysAdmin, applet.CapSysAdmin); err == nil {
			return fmt.Errorf("CAP_SYS_ADMIN came back")
		}
		if err := syscall.Setresuid(0, 0, 0); err == nil {
			return fmt.Errorf("setresuid(0) worked after the drop")
		}
		return nil
	})
}
