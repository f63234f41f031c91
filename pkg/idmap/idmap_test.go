package idmap

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

const testPasswd = `root:x:0:0:root:/root:/bin/bash
# a comment line
garbage
alice:x:1000:1000:Alice,,,:/home/alice:/bin/zsh
badid:x:notanumber:1::/:/bin/sh
toobig:x:4294967296:1::/:/bin/sh
123:x:2000:2000:numeric name:/:/bin/sh
short:x:3000
noshell:x:3001:3001::/home/noshell:
dup:x:4000:4000::/:/bin/first
dup:x:4001:4001::/:/bin/second
max:x:4294967294:1::/:/bin/sh
`

const testGroup = `root:x:0:
wheel:x:10:alice,bob
staff:x:50:
77:x:7700:
nogid:x:
dup:x:500:
dup:x:501:
`

// withDB points PasswdFile and GroupFile at temporary files (or at missing
// ones when the content is "") and restores them after the test.
func withDB(t *testing.T, passwd, group string) {
	t.Helper()
	dir := t.TempDir()
	oldP, oldG := PasswdFile, GroupFile
	t.Cleanup(func() { PasswdFile, GroupFile = oldP, oldG })
	PasswdFile = filepath.Join(dir, "passwd")
	GroupFile = filepath.Join(dir, "group")
	if passwd != "" {
		if err := os.WriteFile(PasswdFile, []byte(passwd), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if group != "" {
		if err := os.WriteFile(GroupFile, []byte(group), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUserByName(t *testing.T) {
	withDB(t, testPasswd, testGroup)
	tests := []struct {
		name string
		want Entry
		ok   bool
	}{
		{"root", Entry{Name: "root", ID: 0, Shell: "/bin/bash"}, true},
		{"alice", Entry{Name: "alice", ID: 1000, Shell: "/bin/zsh"}, true},
		{"123", Entry{Name: "123", ID: 2000, Shell: "/bin/sh"}, true},
		{"short", Entry{Name: "short", ID: 3000}, true},
		{"noshell", Entry{Name: "noshell", ID: 3001}, true},
		{"dup", Entry{Name: "dup", ID: 4000, Shell: "/bin/first"}, true},
		{"max", Entry{Name: "max", ID: 4294967294, Shell: "/bin/sh"}, true},
		{"badid", Entry{}, false},
		{"toobig", Entry{}, false},
		{"garbage", Entry{}, false},
		{"nosuchuser_zz", Entry{}, false},
		{"", Entry{}, false},
		{"Alice", Entry{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := UserByName(tc.name)
			if got != tc.want || ok != tc.ok {
				t.Errorf("UserByName(%q) = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestUserByID(t *testing.T) {
	withDB(t, testPasswd, testGroup)
	tests := []struct {
		id   uint32
		want Entry
		ok   bool
	}{
		{0, Entry{Name: "root", ID: 0, Shell: "/bin/bash"}, true},
		{1000, Entry{Name: "alice", ID: 1000, Shell: "/bin/zsh"}, true},
		{2000, Entry{Name: "123", ID: 2000, Shell: "/bin/sh"}, true},
		{3000, Entry{Name: "short", ID: 3000}, true},
		{4001, Entry{Name: "dup", ID: 4001, Shell: "/bin/second"}, true},
		{123, Entry{}, false},
		{65534, Entry{}, false},
	}
	for _, tc := range tests {
		got, ok := UserByID(tc.id)
		if got != tc.want || ok != tc.ok {
			t.Errorf("UserByID(%d) = %+v, %v; want %+v, %v", tc.id, got, ok, tc.want, tc.ok)
		}
	}
}

func TestGroupByName(t *testing.T) {
	withDB(t, testPasswd, testGroup)
	tests := []struct {
		name string
		id   uint32
		ok   bool
	}{
		{"root", 0, true},
		{"wheel", 10, true},
		{"staff", 50, true},
		{"77", 7700, true},
		{"dup", 500, true},
		{"nogid", 0, false},
		{"alice", 0, false}, // a user, not a group
		{"nosuchgroup", 0, false},
	}
	for _, tc := range tests {
		got, ok := GroupByName(tc.name)
		if ok != tc.ok || (ok && (got.ID != tc.id || got.Name != tc.name)) {
			t.Errorf("GroupByName(%q) = %+v, %v; want id %d, %v", tc.name, got, ok, tc.id, tc.ok)
		}
	}
}

func TestMissingDatabases(t *testing.T) {
	withDB(t, "", "")
	if _, ok := UserByName("root"); ok {
		t.Error("UserByName found root in a missing passwd file")
	}
	if _, ok := UserByID(0); ok {
		t.Error("UserByID found 0 in a missing passwd file")
	}
	if _, ok := GroupByName("root"); ok {
		t.Error("GroupByName found root in a missing group file")
	}
	if id, ok := UserID("42"); !ok || id != 42 {
		t.Errorf("UserID(42) = %d, %v without a passwd file; want 42, true", id, ok)
	}
	if id, ok := GroupID("42"); !ok || id != 42 {
		t.Errorf("GroupID(42) = %d, %v without a group file; want 42, true", id, ok)
	}
	if _, ok := UserID("root"); ok {
		t.Error("UserID(root) succeeded without a passwd file")
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		s  string
		id uint32
		ok bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"1000", 1000, true},
		{"65534", 65534, true},
		{"4294967294", 4294967294, true},
		{"010", 10, true}, // decimal, as strtoul(s, 10)
		{"4294967295", 0, false},
		{"4294967296", 0, false},
		{"18446744073709551615", 0, false},
		{"+1", 0, false},
		{"-1", 0, false},
		{"-0", 0, false},
		{"", 0, false},
		{"abc", 0, false},
		{"1a", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"0x10", 0, false},
		{"1_000", 0, false},
		{"1.0", 0, false},
	}
	for _, tc := range tests {
		id, ok := ParseID(tc.s)
		if id != tc.id || ok != tc.ok {
			t.Errorf("ParseID(%q) = %d, %v; want %d, %v", tc.s, id, ok, tc.id, tc.ok)
		}
	}
}

func TestUserIDGroupID(t *testing.T) {
	withDB(t, testPasswd, testGroup)
	users := []struct {
		s  string
		id uint32
		ok bool
	}{
		{"root", 0, true},
		{"alice", 1000, true},
		{"123", 2000, true}, // a name first, as get_user does
		{"1000", 1000, true},
		{"7", 7, true},
		{"4294967294", 4294967294, true},
		{"4294967295", 0, false},
		{"nosuchuser_zz", 0, false},
		{"-1", 0, false},
		{"", 0, false},
	}
	for _, tc := range users {
		id, ok := UserID(tc.s)
		if id != tc.id || ok != tc.ok {
			t.Errorf("UserID(%q) = %d, %v; want %d, %v", tc.s, id, ok, tc.id, tc.ok)
		}
	}
	groups := []struct {
		s  string
		id uint32
		ok bool
	}{
		{"wheel", 10, true},
		{"77", 7700, true}, // a name first
		{"10", 10, true},
		{"alice", 0, false},
		{"+5", 0, false},
		{"4294967295", 0, false},
	}
	for _, tc := range groups {
		id, ok := GroupID(tc.s)
		if id != tc.id || ok != tc.ok {
			t.Errorf("GroupID(%q) = %d, %v; want %d, %v", tc.s, id, ok, tc.id, tc.ok)
		}
	}
}

func TestSingleString(t *testing.T) {
	tests := []struct {
		m    Single
		want string
	}{
		{Single{Inside: 0, Outside: 1000}, "0 1000 1\n"},
		{Single{Inside: 1000, Outside: 1000}, "1000 1000 1\n"},
		{Single{}, "0 0 1\n"},
		{Single{Inside: 4294967294, Outside: 65534}, "4294967294 65534 1\n"},
	}
	for _, tc := range tests {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestProcDir(t *testing.T) {
	tests := []struct {
		pid  int
		want string
	}{{0, "/proc/self"}, {1, "/proc/1"}, {12345, "/proc/12345"}}
	for _, tc := range tests {
		if got := ProcDir(tc.pid); got != tc.want {
			t.Errorf("ProcDir(%d) = %q, want %q", tc.pid, got, tc.want)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "uid_map")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(f, "0 1000 1\n"); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	if b, _ := os.ReadFile(f); string(b) != "0 1000 1\n" {
		t.Errorf("file holds %q", b)
	}
	// The file must exist (a /proc file is never created), and the error
	// is the bare errno.
	err := WriteFile(filepath.Join(dir, "missing"), "x")
	if err != syscall.ENOENT {
		t.Errorf("WriteFile(missing) = %#v, want ENOENT", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Error("WriteFile created a missing file")
	}
	if err := WriteFile(dir, "x"); err != syscall.EISDIR {
		t.Errorf("WriteFile(dir) = %#v, want EISDIR", err)
	}
}
