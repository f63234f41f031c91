package nsfs

import (
	"runtime"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/ns"
)

// ScanOptions says what Scan reads.
type ScanOptions struct {
	// Types are the namespace types whose /proc/PID/ns/TYPE links are
	// read; the others stay 0 in Proc.Ns.
	Types [ns.NTypes]bool
	// FDs also lists every process's open file descriptors and reports
	// those that are namespace files or sockets (see FD): a statx of each,
	// which never waits on a remote file system (AT_STATX_DONT_SYNC).
	FDs bool
	// Workers is the number of goroutines (and threads) that read /proc;
	// 0 means twice the CPUs, at most 4. Scan works alone below a few
	// hundred processes, where goroutines cost more than they save.
	Workers int
}

// Proc is a process as Scan saw it.
type Proc struct {
	Pid int
	// Ns holds the inode of each namespace the process is in, for the
	// types asked for; 0 where the link could not be read (no permission:
	// another user's process, as non-root).
	Ns [ns.NTypes]uint64
}

// FD is an open file descriptor that holds a namespace: an nsfs file (Ino
// set) or a socket (Socket set: its inode, whose network namespace
// Sockets.Netns finds).
//
// An nsfs descriptor is known by its device, whatever it was opened
// through. Its link names the type ("net:[INO]") only when it was opened
// through /proc/PID/ns: then Typed is true and Type set. One opened
// through a bind mount reads as the mount point's path (or "/" once it is
// unmounted), and its type is the kernel's to tell (File.Type).
type FD struct {
	Pid, Fd int
	Type    ns.Type
	Typed   bool
	Ino     uint64
	Socket  uint64
}

// Snapshot is the result of a Scan.
type Snapshot struct {
	Procs []Proc // by ascending PID
	FDs   []FD   // by PID, then fd number
}

// Scan reads /proc: every process (thread-group leader) and the links of
// the namespace types asked for, and with FDs their open file descriptors.
// Processes that exit during the scan are left out; links that cannot be
// read (EACCES) are left 0. Only failing to read /proc itself is an error.
func Scan(o ScanOptions) (*Snapshot, error) {
	pids, err := ListPids()
	if err != nil {
		return nil, err
	}
	workers := o.Workers
	if workers <= 0 {
		// Twice the CPUs, at most 4: the work is system calls on /proc,
		// and on a busy machine each thread gets its share of the CPUs.
		workers = min(2*runtime.NumCPU(), 4)
	}
	if len(pids) < 400 {
		workers = 1
	}
	if workers > 1 {
		// The workers' raw system calls keep their Ps: give each one.
		if prev := runtime.GOMAXPROCS(0); prev < workers {
			runtime.GOMAXPROCS(workers)
			defer runtime.GOMAXPROCS(prev)
		}
	}
	var dev devNum
	if o.FDs {
		dev = nsfsDev()
	}
	procs := make([]Proc, len(pids))
	ok := make([]bool, len(pids))
	fds := make([][]FD, workers)
	var wg sync.WaitGroup
	chunk := (len(pids) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(pids))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			s := newScanner(&o, dev)
			for i := lo; i < hi; i++ {
				procs[i].Pid = pids[i]
				ok[i] = s.proc(&procs[i])
			}
			fds[w] = s.fds
		}(w, lo, hi)
	}
	wg.Wait()
	snap := &Snapshot{Procs: procs[:0]}
	for i := range procs {
		if ok[i] {
			snap.Procs = append(snap.Procs, procs[i])
		}
	}
	for _, f := range fds {
		snap.FDs = append(snap.FDs, f...)
	}
	return snap, nil
}

// ListPids returns the PIDs under /proc (thread-group leaders), ascending.
func ListPids() ([]int, error) {
	fd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var pids []int
	readDirRaw(fd, make([]byte, 64*1024), func(name []byte) {
		if name[0] < '1' || name[0] > '9' {
			return
		}
		if n, ok := parseUint(name[:len(name)-1]); ok && n <= 1<<31 {
			pids = append(pids, int(n))
		}
	})
	sort.Ints(pids)
	return pids, nil
}

// scanner is one worker's state. It calls readlinkat and openat on
// NUL-terminated paths it builds in one buffer, and parses the links from
// bytes: at a few thousand processes a scan makes tens of thousands of
// system calls, and the allocations of the string-based wrappers showed in
// the profile.
type scanner struct {
	opts  *ScanOptions
	nsfs  devNum // the device of namespace files
	path  []byte
	link  []byte
	dents []byte
	fds   []FD
}

func newScanner(o *ScanOptions, nsfs devNum) *scanner {
	s := &scanner{opts: o, nsfs: nsfs, path: make([]byte, 0, 64), link: make([]byte, 256)}
	if o.FDs {
		s.dents = make([]byte, 16384)
	}
	return s
}

// devNum is a device number as statx gives it.
type devNum struct{ major, minor uint32 }

// nsfsDev is the device of the nsfs file system, where every namespace
// file lives: that of /proc/self/ns/user, as util-linux reads it (or of
// another type's file, on a kernel without user namespaces). The zero
// devNum, which no file system has, when none can be read.
func nsfsDev() devNum {
	for _, t := range [...]ns.Type{ns.User, ns.Net, ns.Mnt} {
		var st unix.Stat_t
		if unix.Stat("/proc/self/ns/"+t.String(), &st) == nil {
			return devNum{unix.Major(st.Dev), unix.Minor(st.Dev)}
		}
	}
	return devNum{}
}

// proc fills p.Ns; false when the process is gone (not one of its links
// could be read, and its fd directory neither).
func (s *scanner) proc(p *Proc) bool {
	s.path = append(s.path[:0], "/proc/"...)
	s.path = strconv.AppendInt(s.path, int64(p.Pid), 10)
	base := len(s.path)
	seen := false
	// A link that cannot be read stays 0: EACCES (not ours), ENOENT (a
	// zombie has no namespaces; or the process just exited).
	for t := ns.Type(0); t < ns.NTypes; t++ {
		if !s.opts.Types[t] {
			continue
		}
		s.path = append(append(append(s.path[:base], "/ns/"...), t.String()...), 0)
		n, err := readlinkat(unix.AT_FDCWD, s.path, s.link)
		if err != nil {
			if err != unix.ENOENT && err != unix.ESRCH {
				seen = true
			}
			continue
		}
		seen = true
		if _, ino, ok := parseLink(s.link[:n]); ok {
			p.Ns[t] = ino
		}
	}
	if s.opts.FDs && s.scanFDs(p.Pid, base) {
		seen = true
	}
	if !seen {
		// zombies and processes that just exited: is it there at all?
		s.path = append(s.path[:base], 0)
		var st unix.Stat_t
		if err := statRaw(s.path, &st); err != nil {
			return false
		}
	}
	return true
}

// scanFDs records the nsfs file descriptors and sockets of the process
// whose /proc directory is s.path[:base]; false when its fd directory
// cannot be read.
//
// It lists the directory and statx's each entry relative to it: the
// device tells an nsfs file, the mode a socket. A readlink is not enough:
// a namespace file opened through a bind mount reads as the mount's path.
// Reading fds 0 to N-1 by name, N the open count that stat gives as the
// directory's size since Linux 6.2, looks cheaper but is not safe alone:
// an fd opened after the stat (a dynamic loader opens and closes its files
// at the lowest free fd) can fill a gap below N and hide the fd above it,
// so the rest of the directory must be listed anyway, and with that
// listing the probe saves nothing.
func (s *scanner) scanFDs(pid, base int) bool {
	s.path = append(append(s.path[:base], "/fd"...), 0)
	fdDir, err := openRaw(s.path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return false
	}
	defer unix.Close(fdDir)
	var stx unix.Statx_t
	haveDev := s.nsfs != (devNum{})
	readDirRaw(fdDir, s.dents, func(name []byte) {
		num, ok := parseUint(name[:len(name)-1])
		if !ok || statxRaw(fdDir, name, &stx) != nil {
			return
		}
		switch {
		case haveDev && stx.Dev_major == s.nsfs.major && stx.Dev_minor == s.nsfs.minor:
			s.fds = append(s.fds, s.nsfsFD(fdDir, name, FD{Pid: pid, Fd: int(num), Ino: stx.Ino}))
		case stx.Mode&unix.S_IFMT == unix.S_IFSOCK:
			s.fds = append(s.fds, FD{Pid: pid, Fd: int(num), Socket: stx.Ino})
		}
	})
	return true
}

// nsfsFD adds the type to fd when its link names it ("net:[INO]", the
// inode the statx gave).
func (s *scanner) nsfsFD(fdDir int, name []byte, fd FD) FD {
	if n, err := readlinkat(fdDir, name, s.link); err == nil {
		if t, ino, ok := parseLink(s.link[:n]); ok && ino == fd.Ino {
			fd.Type, fd.Typed = t, true
		}
	}
	return fd
}

// readDirRaw calls f with each entry name of the open directory fd except
// . and .., NUL included (the name can be passed to the *at calls as it
// is). It stops at a short getdents64 result instead of asking once more
// for the end: /proc fills the buffer as far as the directory goes.
func readDirRaw(fd int, buf []byte, f func(name []byte)) {
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		b := buf[:n]
		for len(b) > 0 {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name
			reclen := int(b[16]) | int(b[17])<<8
			if reclen < 20 || reclen > len(b) {
				return
			}
			name := b[19:reclen]
			end := 0
			for end < len(name) && name[end] != 0 {
				end++
			}
			if end < len(name) {
				name = name[:end+1]
				if !(end == 1 && name[0] == '.') && !(end == 2 && name[0] == '.' && name[1] == '.') {
					f(name)
				}
			}
			b = b[reclen:]
		}
		if n < len(buf)-512 {
			return
		}
	}
}

// atFdcwd is AT_FDCWD as a variable, for its conversion to uintptr.
var atFdcwd = unix.AT_FDCWD

// The scan's system calls go through RawSyscall6: readlinkat, openat and
// stat on /proc do not block, and skipping the scheduler's hand-off around
// each of tens of thousands of them is a measurable part of a scan.
func readlinkat(dirfd int, path, buf []byte) (int, error) {
	r, _, e := syscall.RawSyscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func openRaw(path []byte, flags int) (int, error) {
	r, _, e := syscall.RawSyscall6(unix.SYS_OPENAT, uintptr(atFdcwd), uintptr(unsafe.Pointer(&path[0])),
		uintptr(flags), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// statxRaw asks the type and inode of path relative to dirfd, following
// a /proc magic link to its file, from the cache (AT_STATX_DONT_SYNC: a
// file on a remote file system whose server is gone must not hang lsns;
// the device is always there).
func statxRaw(dirfd int, path []byte, stx *unix.Statx_t) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_STATX, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])),
		unix.AT_STATX_DONT_SYNC, unix.STATX_TYPE|unix.STATX_INO, uintptr(unsafe.Pointer(stx)), 0)
	if e != 0 {
		return e
	}
	return nil
}

func statRaw(path []byte, st *unix.Stat_t) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_NEWFSTATAT, uintptr(atFdcwd), uintptr(unsafe.Pointer(&path[0])),
		uintptr(unsafe.Pointer(st)), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// OpenFD opens a process's namespace file descriptor (through
// /proc/PID/fd/N) and checks it is namespace ino.
func OpenFD(pid, fd int, ino uint64) (*File, error) {
	return Open(procPath(pid, "fd/"+strconv.Itoa(fd)), ino)
}

// OpenProcNs opens /proc/PID/ns/TYPE and checks it is namespace ino (when
// not 0).
func OpenProcNs(pid int, t ns.Type, ino uint64) (*File, error) {
	return Open(procPath(pid, "ns/"+t.String()), ino)
}

// ProcNsPath is "/proc/PID/ns/TYPE".
func ProcNsPath(pid int, t ns.Type) string { return procPath(pid, "ns/"+t.String()) }
