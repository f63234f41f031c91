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
	go unshareAndPin(name, errc)
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

// unshareAndPin runs on a thread of its own: it unshares a network
// namespace there, pins it and returns without unlocking the thread, which
// the runtime then ends. Never on the main thread: the runtime cannot end
// that one (it would stay, in the new namespace, and /proc/self would
// name it): a goroutine that lands there keeps it locked while another
// goroutine, which therefore runs elsewhere, does the work.
func unshareAndPin(name string, errc chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		inner := make(chan error, 1)
		go unshareAndPin(name, inner)
		err := <-inner
		runtime.UnlockOSThread()
		errc <- err
		return
	}
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread() // still in our own namespace: reusable
		errc <- &Error{Op: "unshare a network namespace", Err: err}
		return
	}
	errc <- pin.PinNetns(unix.Gettid(), name)
	// the thread stays locked: it ends with this goroutine
}

// RemoveNetns removes the pin NewNetns made (the namespace goes with its
// last user).
func RemoveNetns(name string) error { return pin.UnpinNetns(name) }
