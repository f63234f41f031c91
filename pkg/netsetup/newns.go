package netsetup

import (
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/pin"
)

// NewNetns makes a new network namespace and pins it as /run/netns/NAME
// (pin.PinNetns: what "ip netns add NAME" makes), and opens it. A thread
// unshares it and is then thrown away: it is locked to its goroutine,
// which returns without unlocking, so the Go runtime ends the thread and
// no goroutine ever runs in the new namespace. Undo with RemoveNetns.
func NewNetns(name string) (*Target, error) {
	if !pin.ValidNetnsName(name) {
		return nil, &Error{Op: "--new", Err: Text("invalid netns name '" + name + "'")}
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread() // still in our own namespace: reusable
			errc <- &Error{Op: "unshare a network namespace", Err: err}
			return
		}
		errc <- pin.PinNetns(unix.Gettid(), name)
	}()
	if err := <-errc; err != nil {
		return nil, err
	}
	t, err := OpenTarget(name)
	if err != nil {
		pin.UnpinNetns(name)
		return nil, err
	}
	return t, nil
}

// RemoveNetns removes the pin NewNetns made (the namespace goes with its
// last user).
func RemoveNetns(name string) error { return pin.UnpinNetns(name) }
