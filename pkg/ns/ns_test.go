package ns

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestByName(t *testing.T) {
	tests := []struct {
		name  string
		want  Type
		file  string
		long  string
		opt   byte
		flag  uintptr
		child string
	}{
		{"user", User, "user", "user", 'U', unix.CLONE_NEWUSER, "user"},
		{"cgroup", Cgroup, "cgroup", "cgroup", 'C', unix.CLONE_NEWCGROUP, "cgroup"},
		{"ipc", Ipc, "ipc", "ipc", 'i', unix.CLONE_NEWIPC, "ipc"},
		{"uts", Uts, "uts", "uts", 'u', unix.CLONE_NEWUTS, "uts"},
		{"net", Net, "net", "net", 'n', unix.CLONE_NEWNET, "net"},
		{"pid", Pid, "pid", "pid", 'p', unix.CLONE_NEWPID, "pid_for_children"},
		{"mnt", Mnt, "mnt", "mount", 'm', unix.CLONE_NEWNS, "mnt"},
		{"time", Time, "time", "time", 'T', unix.CLONE_NEWTIME, "time_for_children"},
	}
	for _, tc := range tests {
		typ, ok := ByName(tc.name)
		if !ok || typ != tc.want {
			t.Errorf("ByName(%q) = %v, %v; want %v", tc.name, typ, ok, tc.want)
			continue
		}
		if typ.String() != tc.file || typ.Long() != tc.long || typ.Opt() != tc.opt || typ.Flag() != tc.flag || typ.ChildFile() != tc.child {
			t.Errorf("%v: %s %s %c %#x %s; want %s %s %c %#x %s", typ, typ, typ.Long(), typ.Opt(), typ.Flag(), typ.ChildFile(),
				tc.file, tc.long, tc.opt, tc.flag, tc.child)
		}
		if back, ok := ByFlag(typ.Flag()); !ok || back != typ {
			t.Errorf("ByFlag(%#x) = %v, %v; want %v", typ.Flag(), back, ok, typ)
		}
		if back, ok := ByLong(typ.Long()); !ok || back != typ {
			t.Errorf("ByLong(%q) = %v, %v; want %v", typ.Long(), back, ok, typ)
		}
	}
	for _, bad := range []string{"bogus", "", "NET", "mnt ", "mount"} {
		if typ, ok := ByName(bad); ok || typ.Valid() {
			t.Errorf("ByName(%q) = %v, %v", bad, typ, ok)
		}
	}
	if _, ok := ByLong("mnt"); ok {
		t.Error(`ByLong("mnt") found a type: the long option is "mount"`)
	}
	if _, ok := ByFlag(unix.CLONE_NEWNS | unix.CLONE_NEWUTS); ok {
		t.Error("ByFlag accepted two flags at once")
	}
	if _, ok := ByFlag(0); ok {
		t.Error("ByFlag(0) found a type")
	}
	if s := Type(42).String(); s != "Type(42)" {
		t.Errorf("Type(42).String() = %q", s)
	}
}

func TestOrders(t *testing.T) {
	lsns := []string{"mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time"}
	join := []string{"user", "cgroup", "ipc", "uts", "net", "pid", "mnt", "time"}
	for i := range NTypes {
		if got := i.String(); got != lsns[i] {
			t.Errorf("Type(%d) = %s, want %s (lsns's order)", i, got, lsns[i])
		}
		if got := JoinOrder[i].String(); got != join[i] {
			t.Errorf("JoinOrder[%d] = %s, want %s (util-linux's join order)", i, got, join[i])
		}
	}
}
