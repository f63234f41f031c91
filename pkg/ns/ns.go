// Package ns is nsbox's one table of Linux namespace types: for each, its
// file under /proc/PID/ns, util-linux's long option and option letter, its
// clone flag and, for pid and time, the *_for_children file that names the
// namespace a process's next children get. Every other package (and the C
// constructor, through the header this package generates: gen.go) takes
// the types from here.
package ns

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Type is a namespace type. Its value is its place in lsns's order (mnt net
// pid uts ipc user cgroup time), the order lsns reads and lists them in;
// JoinOrder gives util-linux's order of entering them.
type Type int

// The namespace types.
const (
	Mnt Type = iota
	Net
	Pid
	Uts
	Ipc
	User
	Cgroup
	Time
	NTypes // the number of types
)

type info struct {
	name        string  // the file under /proc/PID/ns
	long        string  // util-linux's long option (unshare, nsenter)
	opt         byte    // util-linux's option letter
	flag        uintptr // CLONE_NEW*
	forChildren string  // the file naming the namespace children get, if not name
}

var table = [NTypes]info{
	Mnt:    {"mnt", "mount", 'm', unix.CLONE_NEWNS, ""},
	Net:    {"net", "net", 'n', unix.CLONE_NEWNET, ""},
	Pid:    {"pid", "pid", 'p', unix.CLONE_NEWPID, "pid_for_children"},
	Uts:    {"uts", "uts", 'u', unix.CLONE_NEWUTS, ""},
	Ipc:    {"ipc", "ipc", 'i', unix.CLONE_NEWIPC, ""},
	User:   {"user", "user", 'U', unix.CLONE_NEWUSER, ""},
	Cgroup: {"cgroup", "cgroup", 'C', unix.CLONE_NEWCGROUP, ""},
	Time:   {"time", "time", 'T', unix.CLONE_NEWTIME, "time_for_children"},
}

// JoinOrder lists every type in util-linux's order of entering them (user
// first: nsenter's two passes, pins, a pin directory's files).
var JoinOrder = [NTypes]Type{User, Cgroup, Ipc, Uts, Net, Pid, Mnt, Time}

// Valid reports whether t is one of the types.
func (t Type) Valid() bool { return t >= 0 && t < NTypes }

// String is the type's file name under /proc/PID/ns ("mnt", "net", ...).
func (t Type) String() string {
	if !t.Valid() {
		return "Type(" + strconv.Itoa(int(t)) + ")"
	}
	return table[t].name
}

// Long is util-linux's long option for the type ("mount" for mnt).
func (t Type) Long() string { return table[t].long }

// Opt is util-linux's option letter for the type (-m, -U...).
func (t Type) Opt() byte { return table[t].opt }

// Flag is the type's CLONE_NEW* flag.
func (t Type) Flag() uintptr { return table[t].flag }

// ChildFile is the /proc/PID/ns entry that names the namespace of t that a
// process's children live in: pid_for_children and time_for_children for
// pid and time, the plain name otherwise.
func (t Type) ChildFile() string {
	if f := table[t].forChildren; f != "" {
		return f
	}
	return table[t].name
}

// ByName returns the type whose file is called name ("mnt", "net"...;
// exact, lower case, as lsns -t takes it), or false.
func ByName(name string) (Type, bool) {
	for t := range table {
		if table[t].name == name {
			return Type(t), true
		}
	}
	return -1, false
}

// ByLong returns the type whose long option is long ("mount", "net"...).
func ByLong(long string) (Type, bool) {
	for t := range table {
		if table[t].long == long {
			return Type(t), true
		}
	}
	return -1, false
}

// ByFlag returns the type whose clone flag is flag (what NS_GET_NSTYPE
// answers).
func ByFlag(flag uintptr) (Type, bool) {
	for t := range table {
		if table[t].flag == flag {
			return Type(t), true
		}
	}
	return -1, false
}
