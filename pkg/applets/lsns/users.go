package lsns

import (
	"bytes"
	"os"
	"strconv"
)

// users maps uids to names as getpwuid does with files-only NSS: the first
// /etc/passwd line with that uid; the number itself when there is none
// (util-linux's idcache).
type users struct {
	path  string
	names map[uint32]string
	read  bool
}

func (u *users) name(uid uint32) string {
	if !u.read {
		u.read = true
		u.names = map[uint32]string{}
		path := u.path
		if path == "" {
			path = "/etc/passwd"
		}
		if b, err := os.ReadFile(path); err == nil {
			parsePasswd(b, u.names)
		}
	}
	if n, ok := u.names[uid]; ok && n != "" {
		return n
	}
	return strconv.FormatUint(uint64(uid), 10)
}

// parsePasswd adds name:x:uid:... lines to names (the first one wins).
func parsePasswd(b []byte, names map[uint32]string) {
	for len(b) > 0 {
		var ln []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			ln, b = b[:i], b[i+1:]
		} else {
			ln, b = b, nil
		}
		f := bytes.SplitN(ln, []byte(":"), 4)
		if len(f) < 4 || len(f[0]) == 0 || f[0][0] == '#' || f[0][0] == '+' || f[0][0] == '-' {
			continue
		}
		id, err := strconv.ParseUint(string(f[2]), 10, 32)
		if err != nil {
			continue
		}
		if _, seen := names[uint32(id)]; !seen {
			names[uint32(id)] = string(f[0])
		}
	}
}
