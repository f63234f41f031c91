package nsenter

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
)

// openNsID opens the namespace whose 64-bit id is id (--TYPE=:NSID), as
// util-linux 2.43 does: open_by_handle_at(2) with an nsfs file handle
// that carries the id alone (struct nsfs_file_handle: the id, then a type
// and an inode number left 0), decoded against an nsfs file, here the
// caller's mount namespace. The kernel puts the type of such handles in
// the handles it makes, so one of its own gives it.
//
// Linux 6.18 added nsfs file handles but decodes only whole ones (id,
// type and inode number, as name_to_handle_at gives them); Linux 6.19
// decodes the id alone. On 6.18, and before (no nsfs handles at all), the
// message says that the kernel is too old; util-linux reports the
// kernel's ESTALE or EOPNOTSUPP.
func openNsID(id uint64) (int, error) {
	root, err := unix.Open("/proc/self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, applet.Errorf("cannot open /proc/self/ns/mnt: %s", applet.Strerror(err))
	}
	defer unix.Close(root)
	own, _, err := unix.NameToHandleAt(root, "", unix.AT_EMPTY_PATH|atHandleFID)
	if err != nil {
		return -1, tooOld(id)
	}
	fd, err := unix.OpenByHandleAt(root, idHandle(own.Type(), id), unix.O_RDONLY|unix.O_CLOEXEC)
	if err == unix.ESTALE && own.Size() >= 8 {
		// No namespace has that id, or the kernel cannot look one up by
		// its id: the caller's own mount namespace tells which.
		ownID := binary.NativeEndian.Uint64(own.Bytes())
		probe, perr := unix.OpenByHandleAt(root, idHandle(own.Type(), ownID), unix.O_RDONLY|unix.O_CLOEXEC)
		if perr != nil {
			return -1, tooOld(id)
		}
		unix.Close(probe)
	}
	if err != nil {
		return -1, applet.Errorf("cannot open namespace of id %d: %s", id, applet.Strerror(err))
	}
	return fd, nil
}

// atHandleFID asks name_to_handle_at for a handle that identifies a file
// without having to be openable through its file system's export rules.
const atHandleFID = 0x200

// idHandle is an nsfs file handle of type typ for the namespace id.
func idHandle(typ int32, id uint64) unix.FileHandle {
	b := make([]byte, 16)
	binary.NativeEndian.PutUint64(b, id)
	return unix.NewFileHandle(typ, b)
}

func tooOld(id uint64) error {
	return applet.Errorf("cannot open namespace of id %d: this kernel cannot open a namespace by its id (Linux 6.19 or later can)", id)
}
