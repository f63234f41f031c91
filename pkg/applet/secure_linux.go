package applet

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/reexec"
)

// Secure reports whether the process runs with privileges its caller does
// not have: set-user-ID or set-group-ID, or file capabilities.
func Secure() bool { return reexec.Secure() }

// refuseSecure is the start of an applet that is not Privileged (name):
// run through the set-user-ID (or set-group-ID) copy of nsbox made for
// setuidmap and mkbridge (make install-setuid), it refuses before it does
// anything, saying which nsbox to run; a caller who reached unshare there
// by a link or a name meant the unprivileged one. File capabilities, which
// change no id, are dropSecure's.
func refuseSecure(name string) error {
	switch {
	case os.Getuid() != os.Geteuid():
		return Errorf("this is a set-user-ID copy of nsbox: run the unprivileged nsbox for %s", name)
	case os.Getgid() != os.Getegid():
		return Errorf("this is a set-group-ID copy of nsbox: run the unprivileged nsbox for %s", name)
	}
	return dropSecure()
}

// dropSecure gives an applet that is not Privileged nothing more than its
// caller has when nsbox is installed set-user-ID or with file capabilities
// (for setuidmap and mkbridge): every id is set back to the real one on
// every thread, which clears a set-user-ID root's capabilities too. File capabilities
// that would survive that (a non-root caller still holding some) are
// refused rather than cleared thread by thread.
func dropSecure() error {
	if !Secure() {
		return nil
	}
	uid, gid := os.Getuid(), os.Getgid()
	if err := syscall.Setresgid(gid, gid, gid); err != nil {
		return Errorf("cannot drop set-group-ID privileges: %s", Strerror(err))
	}
	if err := syscall.Setresuid(uid, uid, uid); err != nil {
		return Errorf("cannot drop set-user-ID privileges: %s", Strerror(err))
	}
	if uid != 0 {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return Errorf("capget failed: %s", Strerror(err))
		}
		if data[0].Permitted|data[1].Permitted|data[0].Effective|data[1].Effective != 0 {
			return Errorf("refusing to run with file capabilities: only setuidmap and mkbridge may be installed privileged")
		}
	}
	return nil
}
