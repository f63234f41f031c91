package pin

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// marker is what a directory handle's MarkerName file records: what
// PinDir made, so that UnpinDir undoes exactly that and nothing else.
//
// Why a file and not mountinfo: mountinfo cannot tell pin's self-bind from
// the same "mount --bind DIR DIR" made by hand, nor say who created the
// directory. The file lives in the directory itself, so it goes with it.
// Format, one fact a line, unknown lines ignored:
//
//	# nsbox pin directory: "pin -d DIR" releases it
//	created
//	bind unique 1234 2049 131077
//
// "created": pin created DIR. "bind KIND ID DEV INO": pin bound DIR onto
// itself and made it private; the mount has ID (KIND unique: the kernel's
// 64-bit mount ID that is never reused, else the ordinary one) and DIR
// device DEV, inode INO. UnpinDir unmounts DIR only when its top mount
// still has that identity.
//
// "holder PID START" (held handles, see hold.go): the holder process and its
// start time.
type marker struct {
	Created bool
	Bind    mountIdent // zero: no self-bind
	Holder  holder     // zero: no holder
}

const markerHeader = "# nsbox pin directory: \"pin -d DIR\" releases it\n"

func (m marker) String() string {
	var b strings.Builder
	b.WriteString(markerHeader)
	if m.Created {
		b.WriteString("created\n")
	}
	if m.Bind.ID != 0 {
		fmt.Fprintf(&b, "bind %s\n", m.Bind)
	}
	if m.Holder.PID != 0 {
		fmt.Fprintf(&b, "holder %d %d\n", m.Holder.PID, m.Holder.Start)
	}
	return b.String()
}

// parseMarker reads a marker; lines it does not know are ignored.
func parseMarker(r io.Reader) (marker, error) {
	var m marker
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "created":
			m.Created = true
		case "holder":
			if len(f) != 3 {
				return marker{}, fmt.Errorf("malformed line %q", sc.Text())
			}
			pid, err1 := strconv.Atoi(f[1])
			st, err2 := strconv.ParseUint(f[2], 10, 64)
			if err1 != nil || err2 != nil || pid <= 0 {
				return marker{}, fmt.Errorf("malformed line %q", sc.Text())
			}
			m.Holder = holder{PID: pid, Start: st}
		case "bind":
			if len(f) != 5 || (f[1] != "unique" && f[1] != "id") {
				return marker{}, fmt.Errorf("malformed line %q", sc.Text())
			}
			var n [3]uint64
			for i := range n {
				v, err := strconv.ParseUint(f[i+2], 10, 64)
				if err != nil {
					return marker{}, fmt.Errorf("malformed line %q", sc.Text())
				}
				n[i] = v
			}
			m.Bind = mountIdent{Unique: f[1] == "unique", ID: n[0], Dev: n[1], Ino: n[2]}
		}
	}
	return m, sc.Err()
}

// readMarkerAt reads dirfd's marker; ok is false when there is none.
func readMarkerAt(dirfd int) (m marker, ok bool, err error) {
	fd, err := unix.Openat(dirfd, MarkerName, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		return marker{}, false, nil
	}
	if err != nil {
		return marker{}, false, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 4096)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return marker{}, false, err
	}
	m, err = parseMarker(strings.NewReader(string(buf[:n])))
	return m, err == nil, err
}

// writeMarkerAt writes m as dirfd's marker: as markerNew first, then
// renamed over MarkerName, so that a kill never leaves half a marker.
func writeMarkerAt(dirfd int, m marker) error {
	fd, err := unix.Openat(dirfd, markerNew, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	_, err = unix.Write(fd, []byte(m.String()))
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(dirfd, markerNew, dirfd, MarkerName)
	}
	if err != nil {
		unix.Unlinkat(dirfd, markerNew, 0)
	}
	return err
}
