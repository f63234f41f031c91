// The namespace types of pkg/ns for the C constructor, in ns.JoinOrder
// (user first): option letter, long option, file under /proc/PID/ns, clone
// flag. Written by "go test ./pkg/nsexec -run TestNsTypesHeader -update"
// from pkg/ns; do not edit.
#ifndef NSBOX_NSTYPES_H
#define NSBOX_NSTYPES_H

#define NSX_NTYPES 8
#define NSX_TYPES \
	{ 'U', "user", "user", 0x10000000 }, \
	{ 'C', "cgroup", "cgroup", 0x2000000 }, \
	{ 'i', "ipc", "ipc", 0x8000000 }, \
	{ 'u', "uts", "uts", 0x4000000 }, \
	{ 'n', "net", "net", 0x40000000 }, \
	{ 'p', "pid", "pid", 0x20000000 }, \
	{ 'm', "mount", "mnt", 0x20000 }, \
	{ 'T', "time", "time", 0x80 },

#endif
