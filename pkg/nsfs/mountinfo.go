package nsfs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/pkg/ns"
)

// Mount is one line of /proc/PID/mountinfo (proc(5)), with the octal
// escapes (\040 and friends) of the paths undone.
type Mount struct {
	ID, ParentID int
	Root         string // the mount's root within its filesystem; for nsfs "net:[INO]"
	MountPoint   string
	Optional     []string // "shared:N", "master:N", "propagate_from:N", "unbindable"
	FSType       string
	Source       string
}

// Shared tells whether the mount is in a peer group (propagation shared).
func (m Mount) Shared() bool {
	for _, o := range m.Optional {
		if strings.HasPrefix(o, "shared:") {
			return true
		}
	}
	return false
}

// Pin is an nsfs bind mount: a namespace kept alive by a mount point.
type Pin struct {
	Type   ns.Type
	Ino    uint64
	Target string // the mount point
}

// ParseMountinfo reads mountinfo lines from r. A line that does not parse
// is an error naming its number (util-linux fails there too).
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var mounts []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m, err := ParseMountLine(string(line))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		mounts = append(mounts, m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return mounts, nil
}

// ReadMountinfo parses the mountinfo file at path (normally
// /proc/self/mountinfo).
func ReadMountinfo(path string) ([]Mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseMountinfo(f)
}

// errBadMountinfo is a mountinfo line without its fields.
const errBadMountinfo Error = "malformed mountinfo line"

// ParseMountLine parses one mountinfo line:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
func ParseMountLine(line string) (Mount, error) {
	// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
	f := strings.Fields(line)
	if len(f) < 9 {
		return Mount{}, errBadMountinfo
	}
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 || sep+2 >= len(f) {
		return Mount{}, errBadMountinfo
	}
	id, err1 := strconv.Atoi(f[0])
	parent, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || !strings.Contains(f[2], ":") {
		return Mount{}, errBadMountinfo
	}
	return Mount{
		ID:         id,
		ParentID:   parent,
		Root:       unescapeOctal(f[3]),
		MountPoint: unescapeOctal(f[4]),
		Optional:   f[6:sep],
		FSType:     unescapeOctal(f[sep+1]),
		Source:     unescapeOctal(f[sep+2]),
	}, nil
}

// unescapeOctal undoes the kernel's \NNN escapes (space, tab, newline,
// backslash) in mountinfo fields.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Pins returns the nsfs mounts among mounts, in mountinfo order: every
// mount whose filesystem type is nsfs and whose root names a namespace
// ("net:[INO]").
func Pins(mounts []Mount) []Pin {
	var pins []Pin
	for _, m := range mounts {
		if m.FSType != "nsfs" {
			continue
		}
		t, ino, ok := ParseLink(m.Root)
		if !ok {
			continue
		}
		pins = append(pins, Pin{Type: t, Ino: ino, Target: m.MountPoint})
	}
	return pins
}
