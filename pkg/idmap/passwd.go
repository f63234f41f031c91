package idmap

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Entry is one line of /etc/passwd or /etc/group.
type Entry struct {
	Name  string
	ID    uint32
	Shell string // passwd only
}

// PasswdFile and GroupFile are read by the lookups; tests point them
// elsewhere.
var (
	PasswdFile = "/etc/passwd"
	GroupFile  = "/etc/group"
)

// lookup scans a colon-separated database for the first line matching by
// name (byID false) or by id.
func lookup(file, name string, id uint32, byID bool) (Entry, bool) {
	f, err := os.Open(file)
	if err != nil {
		return Entry{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 3 {
			continue
		}
		n, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			continue
		}
		if (byID && uint32(n) == id) || (!byID && fields[0] == name) {
			e := Entry{Name: fields[0], ID: uint32(n)}
			if len(fields) >= 7 {
				e.Shell = fields[6]
			}
			return e, true
		}
	}
	return Entry{}, false
}

// UserByName, UserByID, GroupByName look an account up.
func UserByName(name string) (Entry, bool)  { return lookup(PasswdFile, name, 0, false) }
func UserByID(id uint32) (Entry, bool)      { return lookup(PasswdFile, "", id, true) }
func GroupByName(name string) (Entry, bool) { return lookup(GroupFile, name, 0, false) }

// ParseID parses a decimal 32-bit id (not 4294967295, the kernel's "no id").
func ParseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 || s == "" || s[0] == '+' {
		return 0, false
	}
	return uint32(n), true
}

// UserID is util-linux's get_user: a user name, else a decimal uid.
func UserID(s string) (uint32, bool) {
	if e, ok := UserByName(s); ok {
		return e.ID, true
	}
	return ParseID(s)
}

// GroupID is get_group: a group name, else a decimal gid.
func GroupID(s string) (uint32, bool) {
	if e, ok := GroupByName(s); ok {
		return e.ID, true
	}
	return ParseID(s)
}

// Shell is the program unshare and nsenter run when given none: $SHELL,
// else the real user's passwd shell, else /bin/sh (util-linux exec_shell).
func Shell() string {
	if s := os.Getenv("SHELL"); s != "" {
		return s
	}
	if e, ok := UserByID(uint32(os.Getuid())); ok && e.Shell != "" {
		return e.Shell
	}
	return "/bin/sh"
}
