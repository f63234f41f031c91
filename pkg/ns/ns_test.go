package ns

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestByName(t *testing.T) {
	tests := []struct {
		name  string
		want  string
		flag  uintptr
		child string
		ok    bool
	}{
		{"user", "user", unix.CLONE_NEWUSER, "user", true},
		{"cgroup", "cgroup", unix.CLONE_NEWCGROUP, "cgroup", true},
		{"ipc", "ipc", unix.CLONE_NEWIPC, "ipc", true},
		{"uts", "uts", unix.CLONE_NEWUTS, "uts", true},
		{"net", "net", unix.CLONE_NEWNET, "net", true},
		{"pid", "pid", unix.CLONE_NEWPID, "pid_for_children", true},
		{"mnt", "mnt", unix.CLONE_NEWNS, "mnt", true},
		{"mount", "mnt", unix.CLONE_NEWNS, "mnt", true},
		{"time", "time", unix.CLONE_NEWTIME, "time_for_children", true},
		{"bogus", "", 0, "", false},
		{"", "", 0, "", false},
		{"NET", "", 0, "", false},
	}
	for _, tc := range tests {
		typ, ok := ByName(tc.name)
		if ok != tc.ok {
			t.Errorf("ByName(%q) ok = %v, want %v", tc.name, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if typ.Name != tc.want || typ.Flag != tc.flag || typ.ChildFile() != tc.child {
			t.Errorf("ByName(%q) = %+v (child %q), want %s %#x %s", tc.name, typ, typ.ChildFile(), tc.want, tc.flag, tc.child)
		}
		if back, ok := ByFlag(typ.Flag); !ok || back != typ {
			t.Errorf("ByFlag(%#x) = %+v, %v; want %+v", typ.Flag, back, ok, typ)
		}
	}
	if _, ok := ByFlag(unix.CLONE_NEWNS | unix.CLONE_NEWUTS); ok {
		t.Error("ByFlag accepted two flags at once")
	}
	if _, ok := ByFlag(0); ok {
		t.Error("ByFlag(0) found a type")
	}
}

func TestTypesOrder(t *testing.T) {
	want := []string{"user", "cgroup", "ipc", "uts", "net", "pid", "mnt", "time"}
	if len(Types) != len(want) {
		t.Fatalf("%d types, want %d", len(Types), len(want))
	}
	for i, n := range want {
		if Types[i].Name != n {
			t.Errorf("Types[%d] = %s, want %s (util-linux's join order)", i, Types[i].Name, n)
		}
	}
}
