package usernet

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/errtext"
	"github.com/nsbox/nsbox/pkg/netsetup"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsfs"
)

// Refusal is a target that is not the caller's: Target as the user named
// it, Why the rule.
type Refusal struct {
	Target string
	Why    string
}

func (e *Refusal) Error() string { return e.Target + ": refused: " + e.Why }

// maxDepth bounds the walk up the user namespaces (the kernel nests 32).
const maxDepth = 33

// OpenTarget opens the network namespace spec names (a PID, a file, a
// /run/netns name: netsetup.TargetPath) with the caller's own rights (the
// process must hold no effective capability: the kernel's checks on
// /proc/PID/ns/net are the caller's), once, and keeps it only when it is
// uid's:
//
//   - a PID: /proc/PID is opened as a directory and everything after is
//     relative to that descriptor, which stays the process it was opened
//     as (a PID reused meanwhile is another directory): the process must
//     be uid's (the owner of /proc/PID), then its ns/net is opened;
//   - the network namespace, however reached (a pin, a /proc/PID/fd/N or
//     a symbolic link to one), must be owned by a user namespace that is
//     uid's (see Owner): never the host's, never another user's.
func OpenTarget(spec string, uid uint32) (*netsetup.Target, error) {
	path := netsetup.TargetPath(spec)
	var f *nsfs.File
	var err error
	if netsetup.IsPID(spec) {
		f, err = openPID(spec, uid)
	} else {
		f, err = nsfs.Open(path, 0)
	}
	if err != nil {
		if r, ok := err.(*Refusal); ok {
			return nil, r
		}
		if err == nsfs.ErrNotNamespace {
			return nil, &netsetup.Error{Op: path, Err: netsetup.ErrNotNetns}
		}
		if err == unix.EACCES || err == unix.EPERM {
			return nil, &Refusal{Target: path, Why: fmt.Sprintf("not yours: uid %d cannot open it: %s", uid, errtext.Strerror(err))}
		}
		return nil, &netsetup.Error{Op: "cannot open " + path, Err: err}
	}
	if typ, err := f.Type(); err != nil || typ != ns.Net {
		f.Close()
		return nil, &netsetup.Error{Op: path, Err: netsetup.ErrNotNetns}
	}
	owner, err := Owner(f)
	if err != nil {
		f.Close()
		return nil, &Refusal{Target: path, Why: err.Error()}
	}
	if owner != uid {
		f.Close()
		return nil, &Refusal{Target: path, Why: fmt.Sprintf("the network namespace is not yours: its user namespace belongs to uid %d", owner)}
	}
	return netsetup.NewTarget(f, path)
}

// openPID opens /proc/PID, checks that uid owns the process, then opens
// its ns/net through that directory.
func openPID(spec string, uid uint32) (*nsfs.File, error) {
	if n, err := strconv.ParseInt(spec, 10, 32); err != nil || n <= 0 {
		return nil, &netsetup.Error{Op: "PID " + spec, Err: netsetup.Text("not a valid PID")}
	}
	dir, err := unix.Open("/proc/"+spec, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		err = unix.ESRCH
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(dir)
	var st unix.Stat_t
	if err := unix.Fstat(dir, &st); err != nil {
		return nil, err
	}
	if st.Uid != uid {
		return nil, &Refusal{Target: "/proc/" + spec + "/ns/net", Why: fmt.Sprintf("process %s is not yours (uid %d)", spec, st.Uid)}
	}
	f, err := nsfs.OpenAt(dir, "ns/net", 0)
	if err == unix.ENOENT {
		err = unix.ESRCH // the process has gone since /proc/PID was opened
	}
	return f, err
}

// Owner returns the uid that owns the network (or other) namespace f:
// the creator of the user namespace that owns it, or of the ancestor of
// that one whose parent is the caller's own user namespace (an unprivileged
// process of that uid holds every capability over f). A namespace owned
// by the caller's own user namespace (the host's network namespace, or
// any made by root there) has no such owner: an error says so, as it
// does for one outside the caller's reach.
func Owner(f *nsfs.File) (uint32, error) {
	var self unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/user", &self); err != nil {
		return 0, fmt.Errorf("cannot read your own user namespace: %s", errtext.Strerror(err))
	}
	u, err := f.Owner()
	if err != nil {
		return 0, fmt.Errorf("its user namespace is out of reach: %s", errtext.Strerror(err))
	}
	for depth := 0; ; depth++ {
		if u.Ino() == self.Ino {
			u.Close()
			return 0, fmt.Errorf("the network namespace is the host's, or root's: its user namespace is the host's")
		}
		p, err := u.Parent()
		if err == nil && depth == maxDepth {
			p.Close()
			err = unix.ELOOP
		}
		if err != nil {
			u.Close()
			return 0, fmt.Errorf("its user namespace is out of reach: %s", errtext.Strerror(err))
		}
		if p.Ino() == self.Ino {
			p.Close()
			uid, err := u.OwnerUID()
			u.Close()
			if err != nil {
				return 0, fmt.Errorf("owner of its user namespace: %s", errtext.Strerror(err))
			}
			return uid, nil
		}
		u.Close()
		u = p
	}
}
