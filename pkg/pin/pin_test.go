package pin

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestValidNetnsName(t *testing.T) {
	valid := []string{"a", "blue-1", "with space", ".hidden", "...", strings.Repeat("x", 255)}
	invalid := []string{"", ".", "..", "a/b", "/a", "a\x00b", strings.Repeat("x", 256)}
	cases := map[string]bool{}
	for _, n := range valid {
		cases[n] = true
	}
	for _, n := range invalid {
		cases[n] = false
	}
	for name, want := range cases {
		if got := ValidNetnsName(name); got != want {
			t.Errorf("ValidNetnsName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestNames(t *testing.T) {
	want := []string{"user", "cgroup", "ipc", "uts", "net", "pid", "mnt", "time"}
	if got := Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestFindMount(t *testing.T) {
	info := "21 26 0:20 / /proc rw,relatime - proc proc rw\n" +
		"2 1 0:2 / / rw shared:1 - ext4 /dev/vda rw\n" +
		"26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n" +
		"260 26 254:0 /tmp/h /tmp/h rw shared:7 - ext4 /dev/vda rw\n"
	for _, tc := range []struct {
		id     uint64
		point  string
		ok     bool
		shared bool
	}{
		{26, "/", true, false},
		{2, "/", true, true},
		{260, "/tmp/h", true, true},
		{21, "/proc", true, false},
		{6, "", false, false}, // not a prefix match of 26 or 260
		{99, "", false, false},
	} {
		m, ok, err := findMount(strings.NewReader(info), tc.id)
		if err != nil || ok != tc.ok || m.MountPoint != tc.point || m.Shared() != tc.shared {
			t.Errorf("findMount(%d) = %+v, %v, %v", tc.id, m, ok, err)
		}
	}
	if _, _, err := findMount(strings.NewReader("7 1 bad\n"), 7); err == nil {
		t.Errorf("malformed line: no error")
	}
}

func TestMarker(t *testing.T) {
	for _, m := range []marker{
		{},
		{Created: true},
		{Bind: mountIdent{Unique: true, ID: 2147721586, Dev: 65024, Ino: 9995217}},
		{Created: true, Bind: mountIdent{ID: 117, Dev: 1, Ino: 2}},
		{Created: true, Holder: holder{PID: 4242, Start: 828111}},
	} {
		s := m.String()
		if !strings.HasPrefix(s, markerHeader) {
			t.Errorf("%+v: no header: %q", m, s)
		}
		got, err := parseMarker(strings.NewReader(s))
		if err != nil || got != m {
			t.Errorf("round trip of %+v: %q -> %+v, %v", m, s, got, err)
		}
	}
	got, err := parseMarker(strings.NewReader("created\nfuture-key 1 2\n\n# comment\nbind id 5 6 7\n"))
	if want := (marker{Created: true, Bind: mountIdent{ID: 5, Dev: 6, Ino: 7}}); err != nil || got != want {
		t.Errorf("unknown lines: %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"bind\n", "bind id 1 2\n", "bind foo 1 2 3\n", "bind id x 2 3\n", "bind unique 1 2 3 4\n", "holder\n", "holder 1\n", "holder x 2\n", "holder 0 2\n", "holder 1 -2\n"} {
		if _, err := parseMarker(strings.NewReader(bad)); err == nil {
			t.Errorf("parseMarker(%q): no error", bad)
		}
	}
}

func TestMarkerFile(t *testing.T) {
	dir := t.TempDir()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, ok, err := readMarkerAt(fd); ok || err != nil {
		t.Fatalf("empty dir: marker %v, %v", ok, err)
	}
	m := marker{Created: true, Bind: mountIdent{Unique: true, ID: 9, Dev: 8, Ino: 7}}
	if err := writeMarkerAt(fd, m); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := readMarkerAt(fd); !ok || err != nil || got != m {
		t.Errorf("read back %+v %v %v", got, ok, err)
	}
	// Shorter content replaces longer (O_TRUNC).
	if err := writeMarkerAt(fd, marker{}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := readMarkerAt(fd); got != (marker{}) {
		t.Errorf("after rewrite: %+v", got)
	}
	// A symbolic link as marker is not followed: it is replaced (the
	// marker is written as markerNew, then renamed over it).
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, []byte("keep\n"), 0o644)
	os.Remove(filepath.Join(dir, MarkerName))
	os.Symlink(target, filepath.Join(dir, MarkerName))
	if err := writeMarkerAt(fd, m); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep\n" {
		t.Errorf("wrote through a symbolic link: %q", b)
	}
	if got, ok, err := readMarkerAt(fd); !ok || err != nil || got != m {
		t.Errorf("after replacing a link: %+v %v %v", got, ok, err)
	}
	// A markerNew in the way (a kill while writing) is overwritten, and
	// none is left.
	os.WriteFile(filepath.Join(dir, markerNew), []byte("created\nbind\n"), 0o644)
	if err := writeMarkerAt(fd, marker{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, markerNew)); !os.IsNotExist(err) {
		t.Errorf("%s left: %v", markerNew, err)
	}
}

func TestUndo(t *testing.T) {
	var got []int
	var u undo
	for i := 1; i <= 3; i++ {
		u.push(func() { got = append(got, i) })
	}
	u.run()
	if !reflect.DeepEqual(got, []int{3, 2, 1}) {
		t.Errorf("undo order %v", got)
	}
	u.run() // empty now
	if len(got) != 3 {
		t.Errorf("ran twice: %v", got)
	}
}

func TestErrorText(t *testing.T) {
	e := fail(unix.ENOENT, "cannot open %s", "/x")
	if e.Error() != "cannot open /x: no such file or directory" || !errors.Is(e, unix.ENOENT) {
		t.Errorf("%q", e.Error())
	}
	e.Hint = "why"
	if e.Error() != "cannot open /x: no such file or directory (why)" {
		t.Errorf("%q", e.Error())
	}
	if e := (&Error{Op: "/f", Err: ErrAlreadyPin}); e.Error() != "/f: already a namespace pin" || !errors.Is(e, ErrAlreadyPin) {
		t.Errorf("%q", e.Error())
	}
}

// Refusals that need no privilege: nothing is created.
func TestBatchRefusals(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		b    Batch
		want string
	}{
		{Batch{PID: 0}, "invalid PID 0: no such process"},
		{Batch{PID: os.Getpid(), Netns: "a/b"}, "invalid netns name 'a/b': invalid argument"},
		{Batch{PID: os.Getpid(), Targets: []Target{{Type: typ("net")}}}, "cannot pin the net namespace: no file or directory to pin it on"},
		{Batch{PID: 1 << 30, Targets: []Target{{Type: typ("uts"), Path: dir + "/u"}}}, "cannot open /proc/1073741824/ns/uts: no such file or directory"},
		{Batch{PID: os.Getpid(), Targets: []Target{{Type: typ("mnt"), Path: dir + "/m"}}},
			"cannot pin the mount namespace of PID " + itoa(os.Getpid()) + ": it is pin's own mount namespace (a mount namespace cannot pin itself)"},
	} {
		_, err := tc.b.Do()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.b, err, tc.want)
		}
	}
	if e, _ := os.ReadDir(dir); len(e) != 0 {
		t.Errorf("refused batches left %v", e)
	}
	// Every namespace of our own process: mnt is skipped, not refused;
	// without privilege to mount the batch fails and takes everything back.
	if os.Geteuid() != 0 {
		_, err := PinDir(os.Getpid(), dir+"/h", nil, false)
		if err == nil || !errors.Is(err, unix.EPERM) {
			t.Errorf("unprivileged PinDir: %v", err)
		}
		if _, err := os.Lstat(dir + "/h"); err == nil {
			t.Errorf("unprivileged PinDir left its directory")
		}
	}
}

func TestInspectRefusals(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/f", nil, 0o644)
	os.Symlink("/proc/self/ns/net", dir+"/l")
	for path, want := range map[string]error{
		dir + "/f": ErrNotPin, dir + "/l": ErrNotPin, "/proc/self/ns/net": ErrNotPin, dir: ErrNotHandle,
		dir + "/missing": unix.ENOENT,
	} {
		if _, err := Inspect(path); !errors.Is(err, want) {
			t.Errorf("Inspect(%s) = %v, want %v", path, err, want)
		}
		if err := Unpin(path); !errors.Is(err, want) && !(want == ErrNotHandle && errors.Is(err, ErrNotPin)) {
			t.Errorf("Unpin(%s) = %v", path, err)
		}
	}
	if err := UnpinDir(dir); !errors.Is(err, ErrNotHandle) {
		t.Errorf("UnpinDir(plain dir) = %v", err)
	}
	if ok, err := IsPin(dir + "/f"); ok || err != nil {
		t.Errorf("IsPin(regular file) = %v, %v", ok, err)
	}
	if err := UnpinNetns("../x"); err == nil || !errors.Is(err, unix.EINVAL) {
		t.Errorf("UnpinNetns(../x) = %v", err)
	}
}
