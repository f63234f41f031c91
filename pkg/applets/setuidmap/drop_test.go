package setuidmap

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/idmap"
)

// TestDropToCaller runs the drop in a child that is set up as a
// set-user-ID root execution would be (real uid the user's, effective 0),
// with several threads: the locked thread keeps only CAP_SETUID,
// CAP_SETGID and CAP_SETFCAP as the maps need them, every other thread
// keeps nothing, and every id is the caller's.
func TestDropToCaller(t *testing.T) {
	testutil.SetuidChild(t, func(uid int) error {
		if !applet.Secure() {
			return fmt.Errorf("not seen as secure")
		}
		maps := []*mapping{{kind: "uid", ranges: []idmap.Range{{Inside: 0, Outside: 0, Count: 1}}}, {kind: "gid", ranges: []idmap.Range{{Inside: 0, Outside: uint32(uid), Count: 1}}}}
		if err := dropToCaller(uid, uid, maps); err != nil {
			return fmt.Errorf("drop: %v", err)
		}
		for _, step := range []struct {
			what     string
			cur      *mapping
			left     []*mapping
			prm, eff string
			skipCaps bool
		}{
			{"after the drop", nil, nil, "00000000800000c0", "0000000000000000", true},
			{"gid map", maps[1], maps, "00000000800000c0", "0000000000000040", false},
			{"uid map", maps[0], maps[:1], "0000000080000080", "0000000080000080", false},
			{"done", nil, nil, "0000000000000000", "0000000000000000", false},
		} {
			if !step.skipCaps {
				if err := setCaps(true, step.cur, step.left); err != nil {
					return err
				}
			}
			if err := testutil.CheckThreads(uid, step.prm, step.eff); err != nil {
				return fmt.Errorf("%s: %v", step.what, err)
			}
		}
		if err := syscall.Setresuid(0, 0, 0); err == nil {
			return fmt.Errorf("setresuid(0) worked after the drop")
		}
		return nil
	})
}
