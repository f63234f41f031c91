// Package idmap writes the uid_map, gid_map and setgroups files of a user
// namespace.
package idmap

import (
	"fmt"
	"github.com/nsbox/nsbox/pkg/errtext"
	"os"
	"strconv"
)

// Single is a one-line map of one outside id onto one inside id.
type Single struct{ Inside, Outside uint32 }

// String is the line the kernel expects in uid_map or gid_map.
func (m Single) String() string { return fmt.Sprintf("%d %d 1\n", m.Inside, m.Outside) }

// ProcDir is /proc/PID, or /proc/self for pid 0.
func ProcDir(pid int) string {
	if pid == 0 {
		return "/proc/self"
	}
	return "/proc/" + strconv.Itoa(pid)
}

// WriteFile writes data to an existing /proc file in one write, as the
// kernel requires for maps. The error names the file.
func WriteFile(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return errtext.Errno(err)
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return errtext.Errno(err)
}

// Write sets up the user namespace of process pid (0: this process) the way
// util-linux unshare does for --map-user/--map-group: the uid map, then
// setgroups (deny whenever a gid map is written, else the given value), then
// the gid map. A nil map is not written; setgroups "" is left alone.
func Write(pid int, uid, gid *Single, setgroups string) error {
	dir := ProcDir(pid)
	if uid != nil {
		if err := WriteFile(dir+"/uid_map", uid.String()); err != nil {
			return fmt.Errorf("write failed %s/uid_map: %w", dir, err)
		}
	}
	if gid != nil && setgroups == "" {
		setgroups = "deny"
	}
	if setgroups != "" {
		if err := WriteFile(dir+"/setgroups", setgroups); err != nil {
			return fmt.Errorf("write failed %s/setgroups: %w", dir, err)
		}
	}
	if gid != nil {
		if err := WriteFile(dir+"/gid_map", gid.String()); err != nil {
			return fmt.Errorf("write failed %s/gid_map: %w", dir, err)
		}
	}
	return nil
}
