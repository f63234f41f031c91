package netsetup

import (
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/pin"
)

// newMark is the alias of lo in a namespace NewNetns made, until a set-up
// of it has finished (Setup's last step removes it, whichever set-up that
// is): a namespace that still has it was left by a run killed before the
// end, and is removed by TeardownTarget's caller (mkbridge -d) with what
// it holds. It is set before the namespace is pinned, so that no pin ever
// names an unmarked namespace of an unfinished run.
const newMark = Marker + " new"

// NewNetns makes a new network namespace, marks it as in the making (lo's
// alias, newMark), pins it as /run/netns/NAME (pin.PinNetns: what "ip
// netns add NAME" makes), and opens it. A thread unshares it and is then
// thrown away: it is locked to its goroutine, which returns without
// unlocking, so the Go runtime ends the thread and no goroutine ever runs
// in the new namespace. An empty file /run/netns/NAME, what a run killed
// between creating the file and binding the namespace onto it leaves, is
// removed first. Both happen under the lock, so that no run of this
// package takes another's file in the making for such a leftover. Undo
// with RemoveNetns.
func NewNetns(name string) (*Target, error) {
	if !pin.ValidNetnsName(name) {
		return nil, &Error{Op: "--new", Err: Text("invalid netns name '" + name + "'")}
	}
	lk, err := lock()
	if err != nil {
		return nil, err
	}
	_, err = removeEmptyNetns(name)
	if err == nil {
		errc := make(chan error, 1)
		go unshareAndPin(name, errc)
		err = <-errc
	}
	lk.unlock()
	if err != nil {
		return nil, err
	}
	t, err := OpenTarget(name)
	if err != nil {
		pin.UnpinNetns(name)
		return nil, err
	}
	t.unfinished = true
	return t, nil
}

// unshareAndPin runs on a thread of its own: it unshares a network
// namespace there, marks it, pins it and returns without unlocking the
// thread, which the runtime then ends. Never on the main thread: the
// runtime cannot end that one (it would stay, in the new namespace, and
// /proc/self would name it): a goroutine that lands there keeps it locked
// while another goroutine, which therefore runs elsewhere, does the work.
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
	if err := markNew(); err != nil {
		errc <- err
		return
	}
	errc <- pin.PinNetns(unix.Gettid(), name)
	// the thread stays locked: it ends with this goroutine
}

// markNew sets newMark on lo (index 1 in a new namespace) of the calling
// thread's network namespace.
func markNew() error {
	h, err := newHandle()
	if err != nil {
		return &Error{Op: "netlink in the new network namespace", Err: err}
	}
	defer h.Close()
	if err := h.linkSetAlias(1, newMark); err != nil {
		return &Error{Op: "mark the new network namespace", Err: err}
	}
	return nil
}

// RemoveNetns removes the pin NewNetns made (the namespace goes with its
// last user).
func RemoveNetns(name string) error { return pin.UnpinNetns(name) }

// EmptyNetns reports whether the target spec names, in NetnsDir, the
// empty file that "ip netns add", pin --netns or mkbridge --new leaves
// when killed between creating the pin file and binding the namespace
// onto it (pin.Leftover).
func EmptyNetns(spec string) bool {
	path := TargetPath(spec)
	if IsPID(spec) || filepath.Dir(path) != filepath.Clean(NetnsDir) {
		return false
	}
	return pin.Leftover(unix.AT_FDCWD, path)
}

// RemoveEmptyNetns removes the empty file the target spec names in
// NetnsDir (see EmptyNetns), under the lock, and reports whether it did.
func RemoveEmptyNetns(spec string) (bool, error) {
	if !EmptyNetns(spec) {
		return false, nil
	}
	lk, err := lock()
	if err != nil {
		return false, err
	}
	defer lk.unlock()
	return removeEmptyNetns(filepath.Base(TargetPath(spec)))
}

// removeEmptyNetns removes NetnsDir/name when it is such a leftover (see
// EmptyNetns), and reports whether it did; the caller holds the lock.
func removeEmptyNetns(name string) (bool, error) {
	dir, err := unix.Open(NetnsDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOENT {
			return false, nil
		}
		return false, &Error{Op: "open " + NetnsDir, Err: err}
	}
	defer unix.Close(dir)
	if !pin.Leftover(dir, name) {
		return false, nil // nothing there, or nothing of ours
	}
	if err := unix.Unlinkat(dir, name, 0); err != nil && err != unix.ENOENT {
		return false, &Error{Op: "remove " + filepath.Join(NetnsDir, name), Err: err}
	}
	return true, nil
}
