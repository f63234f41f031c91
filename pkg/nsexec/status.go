package nsexec

import (
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/jsonv"
	"github.com/nsbox/nsbox/pkg/ns"
)

// The objects of unshare --json-status-fd, in the shape of bubblewrap's
// --json-status-fd: JSON lines, one object a line. The first says where
// the program is, once its namespaces exist (where --ready-fd is
// written); the second, only when unshare forked and waited, how it
// ended. The C constructor's self stage writes the first one too, byte
// for byte (nsexec.c, write_status).

// Status is the first object: {"child-pid":PID,"user-namespace":INODE,...}
// with the program's PID as the caller sees it, and for each namespace of
// unshare (CLONE_NEW* flags), in ns.JoinOrder, its inode number. pid and
// time are the namespaces the program's children get (pid_for_children,
// time_for_children): a process that unshares them stays outside, and the
// child stage of --fork is in them already. A namespace the kernel does
// not name yet is left out: a new pid namespace has no pid_for_children
// until its first process exists (unshare -p without --fork).
func Status(pid int, unshare uintptr) ([]byte, error) {
	var w jsonv.Writer
	w.BeginObject()
	w.Key("child-pid")
	w.Int(int64(pid))
	for _, t := range ns.JoinOrder {
		if unshare&t.Flag() == 0 {
			continue
		}
		path := "/proc/" + strconv.Itoa(pid) + "/ns/" + t.ChildFile()
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err == unix.ENOENT && t.ChildFile() != t.String() {
			continue
		} else if err != nil {
			return nil, fail(err, "cannot stat %s", path)
		}
		w.Key(t.String() + "-namespace")
		w.Uint(st.Ino)
	}
	w.EndObject()
	return append(w.Bytes(), '\n'), nil
}

// ExitStatus is the last object, {"exit-code":N}: the program's exit
// status, or 128+S when signal S killed it, as a shell gives it.
func ExitStatus(code int) []byte {
	var w jsonv.Writer
	w.BeginObject()
	w.Key("exit-code")
	w.Int(int64(code))
	w.EndObject()
	return append(w.Bytes(), '\n')
}

// WriteStatus writes Status to fd and closes it.
func WriteStatus(fd, pid int, unshare uintptr) error {
	defer unix.Close(fd)
	b, err := Status(pid, unshare)
	if err != nil {
		return err
	}
	if _, err := unix.Write(fd, b); err != nil {
		return fail(err, "cannot write the status to file descriptor %d", fd)
	}
	return nil
}
