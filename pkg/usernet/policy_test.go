package usernet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	rules, err := Parse(strings.NewReader("# who bridge count\n\nalice nsbox0 2\n  @lab\tbr-lab 10   # the lab\n1000 nsbox0 1\n@100 x 1000\nsvc$ b 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{Line: 3, User: "alice", Bridge: "nsbox0", Count: 2},
		{Line: 4, Group: "lab", Bridge: "br-lab", Count: 10},
		{Line: 5, User: "1000", Bridge: "nsbox0", Count: 1},
		{Line: 6, Group: "100", Bridge: "x", Count: 1000},
		{Line: 7, User: "svc$", Bridge: "b", Count: 1},
	}
	if len(rules) != len(want) {
		t.Fatalf("got %+v", rules)
	}
	for i := range want {
		if rules[i] != want[i] {
			t.Errorf("rule %d: %+v, want %+v", i, rules[i], want[i])
		}
	}
	if s := want[1].String(); s != "/etc/nsbox/usernet line 4: @lab br-lab 10" {
		t.Errorf("String: %q", s)
	}
}

// TestParseStrict: every malformed file is refused whole, with its line.
func TestParseStrict(t *testing.T) {
	for _, c := range []struct{ in, msg string }{
		{"alice nsbox0\n", "line 1: 2 fields, want 3: USER|@GROUP BRIDGE COUNT"},
		{"ok br 1\nalice nsbox0 2 3\n", "line 2: 4 fields, want 3: USER|@GROUP BRIDGE COUNT"},
		{"alice nsbox0 0\n", "line 1: invalid COUNT '0' (1 to 1000)"},
		{"alice nsbox0 1001\n", "line 1: invalid COUNT '1001' (1 to 1000)"},
		{"alice nsbox0 +2\n", "line 1: invalid COUNT '+2' (1 to 1000)"},
		{"alice nsbox0 02\n", "line 1: invalid COUNT '02' (1 to 1000)"},
		{"alice nsbox0 two\n", "line 1: invalid COUNT 'two' (1 to 1000)"},
		{"al:ice nsbox0 1\n", "line 1: invalid user 'al:ice'"},
		{"-alice nsbox0 1\n", "line 1: invalid user '-alice'"},
		{"0100 nsbox0 1\n", "line 1: invalid user '0100'"},
		{"@ nsbox0 1\n", "line 1: invalid group ''"},
		{"@a/b nsbox0 1\n", "line 1: invalid group 'a/b'"},
		{"alice averyveryverylongname 1\n", "line 1: bridge name 'averyveryverylongname' is too long (21 bytes; at most 15)"},
		{"alice a:b 1\n", "line 1: invalid bridge name 'a:b' (no '/', ':' or white space)"},
		{"alice nsbox0 1\r\n", "line 1: a control character"},
		{"\v\n", "line 1: a control character"},
		{"ok br 1\nalice\x00 br 1\n", "line 2: a control character"},
		{"alice nsbox0 1\n" + strings.Repeat("x", 1025) + "\n", "line 2: longer than 1024 bytes"},
		{strings.Repeat("# a comment line, repeated to pass one mebibyte\n", 25000), "bigger than 1 MiB"},
	} {
		_, err := Parse(strings.NewReader(c.in))
		if err == nil || err.Error() != Path+": "+c.msg {
			t.Errorf("%q: got %v, want %s: %s", c.in[:min(len(c.in), 40)], err, Path, c.msg)
		}
	}
}

func TestAllowed(t *testing.T) {
	rules, err := Parse(strings.NewReader("alice br0 1\n@lab br0 3\n@1234 br1 2\n1000 br1 5\n@nosuch br0 9\nbob br0 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	groups := func(name string) (uint32, bool) {
		if name == "lab" {
			return 77, true
		}
		return 0, false
	}
	alice := Caller{UID: 1000, Name: "alice", GIDs: []uint32{1000}}
	labAlice := Caller{UID: 1000, Name: "alice", GIDs: []uint32{1000, 77}}
	carol := Caller{UID: 1002, Name: "carol", GIDs: []uint32{1002, 1234}}
	nameless := Caller{UID: 1003, GIDs: []uint32{1003}}
	for _, c := range []struct {
		who    Caller
		bridge string
		n      int
		line   int
	}{
		{alice, "br0", 1, 1},
		{labAlice, "br0", 3, 2}, // the largest count of the rules that name her
		{alice, "br1", 5, 4},    // by uid
		{carol, "br1", 2, 3},    // by gid
		{carol, "br0", 0, 0},    // no rule
		{nameless, "br0", 0, 0}, // no name: only uid rules
		{alice, "br2", 0, 0},    // another bridge
		{Caller{UID: 1001, Name: "bob"}, "br0", 4, 6},
	} {
		n, r := Allowed(rules, c.who, c.bridge, groups)
		line := 0
		if r != nil {
			line = r.Line
		}
		if n != c.n || line != c.line {
			t.Errorf("%+v on %s: %d (line %d), want %d (line %d)", c.who, c.bridge, n, line, c.n, c.line)
		}
	}
}

// TestCheckRoot: what Open refuses in each component of the path.
func TestCheckRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (files owned by root and by others)")
	}
	dir := t.TempDir()
	check := func(name string, mode os.FileMode, uid int, isDir bool, want uint32) error {
		p := filepath.Join(dir, name)
		if isDir {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, 0); err != nil {
			t.Fatal(err)
		}
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		return checkRoot(p, fd, want)
	}
	if err := check("ok", 0o644, 0, false, unix.S_IFREG); err != nil {
		t.Errorf("root's 0644 file: %v", err)
	}
	if err := check("okdir", 0o755, 0, true, unix.S_IFDIR); err != nil {
		t.Errorf("root's 0755 directory: %v", err)
	}
	for _, c := range []struct {
		name  string
		mode  os.FileMode
		uid   int
		isDir bool
		want  uint32
		msg   string
	}{
		{"g", 0o664, 0, false, unix.S_IFREG, "is writable by group or others (mode 0664)"},
		{"o", 0o646, 0, false, unix.S_IFREG, "is writable by group or others (mode 0646)"},
		{"u", 0o644, 1000, false, unix.S_IFREG, "is owned by uid 1000, not root"},
		{"d", 0o777 | os.ModeSticky, 0, true, unix.S_IFDIR, "is writable by group or others (mode 1777)"},
		{"dir", 0o755, 0, true, unix.S_IFREG, "is not a regular file"},
		{"file", 0o644, 0, false, unix.S_IFDIR, "is not a directory"},
	} {
		err := check(c.name, c.mode, c.uid, c.isDir, c.want)
		if err == nil || err.Error() != Path+": refused: "+filepath.Join(dir, c.name)+" "+c.msg {
			t.Errorf("%s: got %v, want %s", c.name, err, c.msg)
		}
	}
}
