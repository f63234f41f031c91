// Package ns names Linux namespace types: their clone flag, their file under
// /proc/PID/ns and, for pid and time, the *_for_children file that names the
// namespace a process's next children get.
package ns

import "golang.org/x/sys/unix"

// Type is one namespace type.
type Type struct {
	Name        string  // mnt, uts, ipc, net, pid, user, cgroup, time
	Flag        uintptr // CLONE_NEW*
	ForChildren string  // file naming the namespace children get ("" = Name)
}

// Types lists every namespace type in util-linux's join order (user first).
var Types = []Type{
	{Name: "user", Flag: unix.CLONE_NEWUSER},
	{Name: "cgroup", Flag: unix.CLONE_NEWCGROUP},
	{Name: "ipc", Flag: unix.CLONE_NEWIPC},
	{Name: "uts", Flag: unix.CLONE_NEWUTS},
	{Name: "net", Flag: unix.CLONE_NEWNET},
	{Name: "pid", Flag: unix.CLONE_NEWPID, ForChildren: "pid_for_children"},
	{Name: "mnt", Flag: unix.CLONE_NEWNS},
	{Name: "time", Flag: unix.CLONE_NEWTIME, ForChildren: "time_for_children"},
}

// ByName returns the type called name (util-linux's long option names
// "mount" is accepted for mnt), or false.
func ByName(name string) (Type, bool) {
	if name == "mount" {
		name = "mnt"
	}
	for _, t := range Types {
		if t.Name == name {
			return t, true
		}
	}
	return Type{}, false
}

// ByFlag returns the type whose clone flag is flag.
func ByFlag(flag uintptr) (Type, bool) {
	for _, t := range Types {
		if t.Flag == flag {
			return t, true
		}
	}
	return Type{}, false
}

// ChildFile is the /proc/PID/ns entry that names the namespace of t that a
// process's children live in: pid_for_children and time_for_children for
// pid and time, the plain name otherwise.
func (t Type) ChildFile() string {
	if t.ForChildren != "" {
		return t.ForChildren
	}
	return t.Name
}
