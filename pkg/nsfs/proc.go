package nsfs

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Stat is what lsns takes from /proc/PID/stat.
type Stat struct {
	Pid   int
	State byte
	PPid  int
}

const errBadStat Error = "malformed /proc/PID/stat"

// ParseStat parses the first line of /proc/PID/stat: "PID (COMM) S PPID
// ...". COMM may hold spaces and parentheses; like util-linux (and ps) the
// last ')' ends it.
func ParseStat(b []byte) (Stat, error) {
	var s Stat
	end := -1
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			end = i
			break
		}
	}
	if end < 0 {
		return s, errBadStat
	}
	// sscanf(line, "%d (", &pid) and sscanf(p, ") %c %d", ...), as
	// util-linux reads it.
	pid, ok := scanInt(b)
	if !ok {
		return s, errBadStat
	}
	rest := b[end+1:]
	k := 0
	for k < len(rest) && isSpace(rest[k]) {
		k++
	}
	if k >= len(rest) {
		return s, errBadStat
	}
	state := rest[k]
	ppid, ok := scanInt(rest[k+1:])
	if !ok {
		return s, errBadStat
	}
	return Stat{Pid: pid, State: state, PPid: ppid}, nil
}

// scanInt is sscanf's %d on the start of b: blanks, a sign, digits.
func scanInt(b []byte) (int, bool) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	j := i
	if j < len(b) && (b[j] == '-' || b[j] == '+') {
		j++
	}
	k := j
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		k++
	}
	if k == j {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[i:k]))
	return n, err == nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// procPath is "/proc/PID/name".
func procPath(pid int, name string) string {
	b := make([]byte, 0, 32)
	b = append(b, "/proc/"...)
	b = strconv.AppendInt(b, int64(pid), 10)
	if name != "" {
		b = append(b, '/')
		b = append(b, name...)
	}
	return string(b)
}

// ReadStat reads and parses /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	b, err := readSmall(procPath(pid, "stat"), 4096)
	if err != nil {
		return Stat{}, err
	}
	return ParseStat(b)
}

// ProcUID is the owner of /proc/PID: the process's effective uid, as lsns
// shows it (for a process that is not dumpable, root).
func ProcUID(pid int) (uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat(procPath(pid, ""), &st); err != nil {
		return 0, err
	}
	return st.Uid, nil
}

// cmdBufSize is util-linux's BUFSIZ read of cmdline and comm.
const cmdBufSize = 8192

// Command is the process's command as util-linux lsns shows it: at most
// 8191 bytes of /proc/PID/cmdline with the NULs made spaces and the last
// byte dropped, else the same of /proc/PID/comm (kernel threads have an
// empty cmdline). ok is false when neither could be read.
func Command(pid int) (cmd string, ok bool) {
	if s, ok := readCmd(procPath(pid, "cmdline")); ok {
		return s, true
	}
	return readCmd(procPath(pid, "comm"))
}

func readCmd(path string) (string, bool) {
	b, err := readSmall(path, cmdBufSize)
	if err != nil || len(b) == 0 {
		return "", false
	}
	for i, c := range b {
		if c == 0 {
			b[i] = ' '
		}
	}
	return string(b[:len(b)-1]), true
}

// readSmall reads at most max bytes of path, retrying short reads.
func readSmall(path string, max int) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := make([]byte, max)
	n := 0
	for n < max {
		k, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			if n > 0 {
				break
			}
			return nil, err
		}
		if k == 0 {
			break
		}
		n += k
	}
	return buf[:n], nil
}
