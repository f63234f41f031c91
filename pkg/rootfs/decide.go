package rootfs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Inode numbers of the initial namespaces (include/linux/proc_ns.h).
const (
	// InitPidIno is the initial pid namespace's fixed inode number.
	InitPidIno = 0xEFFFFFFC
	// InitMntIno is the fixed inode number that newer kernels (6.18 here)
	// give the initial mount namespace.
	InitMntIno = 0xEFFFFFF8
	// FirstDynamicIno is the first inode number nsfs hands out
	// (PROC_DYNAMIC_FIRST). Older kernels allocate the initial mount
	// namespace's at boot before any other, so it gets this one: the
	// familiar mnt:[4026531840].
	FirstDynamicIno = 0xF0000000
)

// NsFacts are what InitialMountNS looks at: the inode numbers of the
// caller's mount namespace and of PID 1's pid and mount namespaces as
// /proc shows them (0 where it could not be read: PID 1 of the host is
// often not readable, and under a pid namespace's own /proc, PID 1 is the
// container's init).
type NsFacts struct {
	SelfMnt uint64
	Pid1Pid uint64
	Pid1Mnt uint64
}

// InitialMountNS decides whether the caller is in the host's initial mount
// namespace, and says how it knows:
//
//  1. its mount namespace has the fixed number of the initial one: yes;
//  2. PID 1 in /proc is the host's init (its pid namespace is the initial
//     one) and its mount namespace is readable: yes when they are equal;
//  3. otherwise PID 1 is a container's init, or not readable: the host's
//     init cannot be compared with, and only the number tells: yes when it
//     is the first dynamic one, which kernels without the fixed number
//     give the initial mount namespace at boot.
func InitialMountNS(f NsFacts) (bool, string) {
	switch {
	case f.SelfMnt == InitMntIno:
		return true, fmt.Sprintf("its inode number is %d, the initial mount namespace's", uint64(InitMntIno))
	case f.Pid1Pid == InitPidIno && f.Pid1Mnt != 0:
		if f.SelfMnt == f.Pid1Mnt {
			return true, "it is the mount namespace of PID 1, the host's init"
		}
		return false, "it is not the mount namespace of PID 1, the host's init"
	case f.SelfMnt == FirstDynamicIno:
		return true, fmt.Sprintf("its inode number is %d, the one the kernel gives the initial mount namespace at boot", uint64(FirstDynamicIno))
	}
	return false, "it is neither the initial mount namespace's inode number nor PID 1's"
}

// Method is how Switch changes the root.
type Method int

const (
	// PivotRoot is pivot_root(".", ".") and a lazy unmount of the old root.
	PivotRoot Method = iota
	// MoveChroot is MS_MOVE of the new root onto / and chroot("."): for a
	// root that pivot_root cannot move, the initramfs rootfs.
	MoveChroot
	// Chroot is chroot(2) alone, on request (the seed recipe's way): the
	// old root stays mounted, and a chroot can be escaped.
	Chroot
)

func (m Method) String() string {
	switch m {
	case MoveChroot:
		return "MS_MOVE + chroot"
	case Chroot:
		return "chroot"
	}
	return "pivot_root"
}

// RootFacts describe the mounts pivot_root(2) looks at: the current root,
// the new root and the new root's parent mount.
type RootFacts struct {
	RootIsMount   bool   // the current root is the root of a mount (not a chrooted directory)
	RootHasParent bool   // the current root's mount has a parent (it is not the namespace's first mount)
	RootFSType    string // "rootfs" for the initramfs
	NewIsMount    bool   // the new root is the root of a mount
	NewShared     bool   // the new root's mount is shared
	ParentShared  bool   // the mount under the new root's is shared
	NewIsRoot     bool   // the new root is the current root
}

// Decide chooses how to switch: MS_MOVE + chroot where the current root
// is the mount namespace's first mount (the initramfs rootfs, which
// pivot_root can never move: cause 6 of Explain), else pivot_root.
func Decide(f RootFacts) Method {
	if f.RootIsMount && !f.RootHasParent {
		return MoveChroot
	}
	return PivotRoot
}

// Explain says which of pivot_root(2)'s conditions failed for err (EINVAL,
// EBUSY, EPERM), judged from f; "" when it cannot tell. The causes are
// numbered as in MECHANICS §13.
func Explain(err error, f RootFacts) string {
	switch {
	case errors.Is(err, unix.EBUSY):
		if f.NewIsRoot {
			return "the new root is already the root directory"
		}
		return "the new root or the old root is on the current root's mount (the new root is the current root?)"
	case errors.Is(err, unix.EPERM):
		return "pivot_root needs CAP_SYS_ADMIN in the user namespace that owns this mount namespace"
	case !errors.Is(err, unix.EINVAL):
		return ""
	case !f.RootIsMount:
		return "the current root is not a mount point: this process is chrooted into a directory, and pivot_root only moves mounts (cause 5)"
	case !f.RootHasParent:
		return fmt.Sprintf("the current root is the mount namespace's first mount (%s), which pivot_root cannot move (cause 6: the initramfs rootfs)", f.RootFSType)
	case !f.NewIsMount:
		return "the new root is not a mount point (cause 1)"
	case f.NewShared:
		return "the new root's mount is shared (cause 3: it would propagate; use --propagation private or slave)"
	case f.ParentShared:
		return "the mount under the new root is shared (cause 3: it would propagate; use --propagation private or slave)"
	}
	return "none of pivot_root(2)'s EINVAL conditions shows in /proc/self/mountinfo"
}
