package nsfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/ns"
)

func TestTypes(t *testing.T) {
	want := []string{"mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time"}
	for i, n := range want {
		typ, ok := ns.ByName(n)
		if !ok || typ != ns.Type(i) || typ.String() != n {
			t.Errorf("ns.ByName(%q) = %v, %v", n, typ, ok)
		}
		back, ok := ns.ByFlag(typ.Flag())
		if !ok || back != typ {
			t.Errorf("ns.ByFlag(%#x) = %v, %v", typ.Flag(), back, ok)
		}
	}
	for _, bad := range []string{"", "NET", "mount", "bogus", "net "} {
		if _, ok := ns.ByName(bad); ok {
			t.Errorf("ns.ByName(%q) accepted", bad)
		}
	}
	if _, ok := ns.ByFlag(0); ok {
		t.Errorf("ns.ByFlag(0) accepted")
	}
	if s := ns.Type(42).String(); s != "Type(42)" {
		t.Errorf("ns.Type(42).String() = %q", s)
	}
}

func TestParseLink(t *testing.T) {
	tests := []struct {
		in   string
		typ  ns.Type
		ino  uint64
		okay bool
	}{
		{"net:[4026531840]", ns.Net, 4026531840, true},
		{"mnt:[1]", ns.Mnt, 1, true},
		{"cgroup:[4026531835]", ns.Cgroup, 4026531835, true},
		{"time:[18446744073709551615]", ns.Time, 1<<64 - 1, true},
		{"time:[18446744073709551616]", 0, 0, false},
		{"socket:[123]", 0, 0, false},
		{"pipe:[123]", 0, 0, false},
		{"/dev/null", 0, 0, false},
		{"net:[]", 0, 0, false},
		{"net:[12a]", 0, 0, false},
		{"net:[12", 0, 0, false},
		{"net[12]", 0, 0, false},
		{"pid_for_children:[1]", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tc := range tests {
		typ, ino, ok := ParseLink(tc.in)
		if ok != tc.okay || typ != tc.typ || ino != tc.ino {
			t.Errorf("ParseLink(%q) = %v, %d, %v; want %v, %d, %v", tc.in, typ, ino, ok, tc.typ, tc.ino, tc.okay)
		}
		btyp, bino, bok := parseLink([]byte(tc.in))
		if bok != ok || btyp != typ || bino != ino {
			t.Errorf("parseLink(%q) = %v, %d, %v; ParseLink says %v, %d, %v", tc.in, btyp, bino, bok, typ, ino, ok)
		}
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		in   string
		want Stat
		bad  bool
	}{
		{"1 (systemd) S 0 1 1 0 -1 4194560 ...\n", Stat{1, 'S', 0}, false},
		{"4242 (sleep) S 4241 4242 4241 0 -1 ...", Stat{4242, 'S', 4241}, false},
		// a command may hold spaces and parentheses: the last ')' ends it
		{"77 (a b) (c)) R 5 77 ...", Stat{77, 'R', 5}, false},
		{"78 (x) Z 1", Stat{78, 'Z', 1}, false},
		{"  79 (y) S  -1 x", Stat{79, 'S', -1}, false},
		{"80 (z)S 3", Stat{80, 'S', 3}, false}, // sscanf's " " matches no blank too
		{"81 (no-ppid) S", Stat{}, true},
		{"82 (no-paren S 1", Stat{}, true},
		{"(nopid) S 1", Stat{}, true},
		{"", Stat{}, true},
		{"83 (x)", Stat{}, true},
	}
	for _, tc := range tests {
		got, err := ParseStat([]byte(tc.in))
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("ParseStat(%q) = %+v, %v; want %+v, bad=%v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

const mountinfoFixture = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
41 26 0:4 pid:[4026532177] /tmp/pins/pid rw - nsfs nsfs rw
42 26 0:4 net:[4026532186] /run/netns/with\040space rw shared:5 master:2 - nsfs nsfs rw
43 26 0:4 net:[4026532186] /run/netns/with\040space rw - nsfs nsfs rw
44 26 0:4 cgroup:[4026531835] /a\011tab\012nl\134bs rw - nsfs nsfs rw
45 26 0:4 / /weird rw - nsfs nsfs rw
46 26 0:4 net:[4026532186] /not-nsfs rw - tmpfs tmpfs rw
`

func TestParseMountinfo(t *testing.T) {
	m, err := ParseMountinfo(strings.NewReader(mountinfoFixture))
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 8 {
		t.Fatalf("%d mounts, want 8", len(m))
	}
	if got := m[1]; !reflect.DeepEqual(got, Mount{ID: 23, ParentID: 22, Root: "/", MountPoint: "/proc", Optional: []string{"shared:12"}, FSType: "proc", Source: "proc"}) {
		t.Errorf("mount 1 = %+v", got)
	}
	if got := m[3].MountPoint; got != "/run/netns/with space" {
		t.Errorf("optional fields / escapes: mount point %q", got)
	}
	if got := m[5].MountPoint; got != "/a\ttab\nnl\\bs" {
		t.Errorf("escapes: mount point %q", got)
	}
	pins := Pins(m)
	want := []Pin{
		{ns.Pid, 4026532177, "/tmp/pins/pid"},
		{ns.Net, 4026532186, "/run/netns/with space"},
		{ns.Net, 4026532186, "/run/netns/with space"},
		{ns.Cgroup, 4026531835, "/a\ttab\nnl\\bs"},
	}
	if !reflect.DeepEqual(pins, want) {
		t.Errorf("Pins = %+v\nwant %+v", pins, want)
	}
	for _, bad := range []string{
		"22 1 8:1 / / rw - ext4\n",                     // too short
		"22 1 8:1 / / rw shared:1 ext4 /dev/sda1 rw\n", // no separator
		"x 1 8:1 / / rw - ext4 /dev/sda1 rw\n",
		"22 1 81 / / rw - ext4 /dev/sda1 rw\n",
	} {
		if _, err := ParseMountinfo(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseMountinfo(%q) accepted", bad)
		}
	}
	if m, err := ParseMountinfo(strings.NewReader("\n\n")); err != nil || len(m) != 0 {
		t.Errorf("blank lines: %v, %v", m, err)
	}
}

func TestUnescapeOctal(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:        "plain",
		`a\040b`:       "a b",
		`trail\04`:     `trail\04`,
		`\134\134`:     `\\`,
		`not\8oct`:     `not\8oct`,
		`end\`:         `end\`,
		`\011\012\040`: "\t\n ",
	} {
		if got := unescapeOctal(in); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadDirRaw(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for _, n := range []string{"a", "bb", "0", "12345678901234567890"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		want = append(want, n)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	got := map[string]bool{}
	// a small buffer: several getdents64 calls
	readDirRaw(fd, make([]byte, 600), func(name []byte) {
		if name[len(name)-1] != 0 {
			t.Errorf("name %q not NUL-terminated", name)
		}
		got[string(name[:len(name)-1])] = true
	})
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, n := range want {
		if !got[n] {
			t.Errorf("missing %q", n)
		}
	}
}

func nlmsg(typ uint16, seq uint32, payload []byte) []byte {
	b := make([]byte, 16+len(payload))
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint32(b[8:], seq)
	copy(b[16:], payload)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestParseNSIDReply(t *testing.T) {
	ne := binary.NativeEndian
	attr := func(typ uint16, v int32) []byte {
		a := make([]byte, 8)
		ne.PutUint16(a[0:], 8)
		ne.PutUint16(a[2:], typ)
		ne.PutUint32(a[4:], uint32(v))
		return a
	}
	gen := []byte{unix.AF_UNSPEC, 0, 0, 0}
	reply := nlmsg(unix.RTM_NEWNSID, 7, append(append(gen, attr(unix.NETNSA_CURRENT_NSID, 3)...), attr(unix.NETNSA_NSID, 5)...))
	if id, done, err := parseNSIDReply(reply, 7); !done || err != nil || id != 5 {
		t.Errorf("reply: %d, %v, %v", id, done, err)
	}
	unassigned := nlmsg(unix.RTM_NEWNSID, 8, append(gen, attr(unix.NETNSA_NSID, -1)...))
	if id, done, err := parseNSIDReply(unassigned, 8); !done || err != nil || id != NSIDUnassigned {
		t.Errorf("unassigned: %d, %v, %v", id, done, err)
	}
	if _, done, _ := parseNSIDReply(reply, 8); done {
		t.Errorf("stale reply taken")
	}
	errmsg := make([]byte, 4)
	ne.PutUint32(errmsg, uint32(0xffffffff-uint32(unix.EINVAL)+1))
	if _, done, err := parseNSIDReply(nlmsg(unix.NLMSG_ERROR, 9, errmsg), 9); !done || !errors.Is(err, unix.EINVAL) {
		t.Errorf("error reply: %v, %v", done, err)
	}
	if _, done, err := parseNSIDReply(nlmsg(unix.RTM_NEWNSID, 10, gen), 10); !done || err == nil {
		t.Errorf("no attribute: %v, %v", done, err)
	}
	if _, done, err := parseNSIDReply([]byte{1, 2, 3}, 1); done || err != nil {
		t.Errorf("short datagram: %v, %v", done, err)
	}
}

// The tests below ask the kernel about this process's own namespaces:
// they need no privilege.

func TestOpenChecks(t *testing.T) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &st); err != nil {
		t.Skipf("no /proc/self/ns: %v", err)
	}
	f, err := Open("/proc/self/ns/net", st.Ino)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer f.Close()
	if f.Ino() != st.Ino {
		t.Errorf("Ino %d, want %d", f.Ino(), st.Ino)
	}
	if typ, err := f.Type(); err != nil || typ != ns.Net {
		t.Errorf("Type = %v, %v", typ, err)
	}
	if _, err := Open("/proc/self/ns/net", st.Ino+1); !errors.Is(err, ErrChanged) {
		t.Errorf("wrong inode: %v, want ErrChanged", err)
	}
	// a plain file where a pin was: never asked an ioctl
	plain := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(plain, 0); !errors.Is(err, ErrNotNamespace) {
		t.Errorf("plain file: %v, want ErrNotNamespace", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "gone"), 0); !errors.Is(err, unix.ENOENT) {
		t.Errorf("missing file: %v, want ENOENT", err)
	}
	var nilFile *File
	if err := nilFile.Close(); err != nil {
		t.Errorf("nil Close: %v", err)
	}
}

// withTimeout runs open in the background and fails the test if it has
// not returned within 5 s; a FIFO open blocked waiting for a writer is
// then released (a non-blocking writer lets it return), so that the test
// ends either way.
func withTimeout(t *testing.T, fifo string, open func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); open() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		if w, err := unix.Open(fifo, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
			<-done
			unix.Close(w)
		}
		t.Fatalf("opening %s blocked", fifo)
	}
}

// TestOpenFIFO: a FIFO where a namespace file is expected is neither
// waited on (no writer) nor opened for reading (a writer blocked in its
// own open stays blocked): ErrNotNamespace, at once. OpenOperand refuses
// it the same way, and opens a regular file, which setns then refuses.
func TestOpenFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	withTimeout(t, fifo, func() { _, err = Open(fifo, 0) })
	if !errors.Is(err, ErrNotNamespace) {
		t.Errorf("Open(FIFO): %v, want ErrNotNamespace", err)
	}
	withTimeout(t, fifo, func() { _, err = OpenOperand(fifo) })
	if !errors.Is(err, ErrNotNamespace) {
		t.Errorf("OpenOperand(FIFO): %v, want ErrNotNamespace", err)
	}
	// A writer waiting for a reader: opening the FIFO for reading would
	// let it through.
	opened := make(chan int, 1)
	go func() {
		w, _ := unix.Open(fifo, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		opened <- w
	}()
	time.Sleep(50 * time.Millisecond) // the writer is in its open
	withTimeout(t, fifo, func() { _, err = Open(fifo, 0) })
	select {
	case w := <-opened:
		unix.Close(w)
		t.Errorf("Open(FIFO) opened it for reading: the waiting writer got through")
	case <-time.After(200 * time.Millisecond):
		// Release the writer: a reader of our own.
		r, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(<-opened)
		unix.Close(r)
	}
	plain := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := OpenOperand(plain)
	if err != nil {
		t.Fatalf("OpenOperand(regular file): %v", err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, 0); err != unix.EINVAL {
		t.Errorf("setns on a regular file: %v, want EINVAL", err)
	}
}

func TestRelated(t *testing.T) {
	u, err := OpenProcNs(os.Getpid(), ns.User, 0)
	if err != nil {
		t.Skipf("open own user namespace: %v", err)
	}
	defer u.Close()
	if uid, err := u.OwnerUID(); err != nil {
		t.Errorf("OwnerUID: %v", err)
	} else if initial := isInitialUserNs(); initial && uid != 0 {
		t.Errorf("OwnerUID of the initial user namespace = %d", uid)
	}
	n, err := OpenProcNs(os.Getpid(), ns.Net, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	parent, owner, err := n.Related(ns.Net)
	if err != nil {
		t.Fatalf("Related(net): %v", err)
	}
	if parent != 0 {
		t.Errorf("a net namespace has no parent, got %d", parent)
	}
	if owner != u.Ino() {
		t.Errorf("owner of our net namespace %d, want our user namespace %d", owner, u.Ino())
	}
	if _, err := n.OwnerUID(); err == nil {
		t.Errorf("OwnerUID of a net namespace succeeded")
	}
}

func isInitialUserNs() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && strings.Fields(string(b))[2] == "4294967295"
}

func TestScanSelf(t *testing.T) {
	var types [ns.NTypes]bool
	for i := range types {
		types[i] = true
	}
	// an nsfs descriptor of our own, and a socket
	f, err := OpenProcNs(os.Getpid(), ns.Uts, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sk, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(sk)
	for _, workers := range []int{1, 2} {
		snap, err := Scan(ScanOptions{Types: types, FDs: true, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		var me *Proc
		for i := range snap.Procs {
			if i > 0 && snap.Procs[i-1].Pid >= snap.Procs[i].Pid {
				t.Fatalf("Procs not ascending at %d", i)
			}
			if snap.Procs[i].Pid == os.Getpid() {
				me = &snap.Procs[i]
			}
		}
		if me == nil {
			t.Fatalf("workers=%d: own process not found", workers)
		}
		for typ := ns.Type(0); typ < ns.NTypes; typ++ {
			var st unix.Stat_t
			if err := unix.Stat(ProcNsPath(os.Getpid(), typ), &st); err != nil {
				continue
			}
			if me.Ns[typ] != st.Ino {
				t.Errorf("workers=%d: %v = %d, want %d", workers, typ, me.Ns[typ], st.Ino)
			}
		}
		var gotNs, gotSock bool
		var sst unix.Stat_t
		unix.Fstat(sk, &sst)
		for _, fd := range snap.FDs {
			if fd.Pid != os.Getpid() {
				continue
			}
			if fd.Fd == f.Fd() && fd.Typed && fd.Type == ns.Uts && fd.Ino == f.Ino() {
				gotNs = true
			}
			if fd.Fd == sk && fd.Socket == sst.Ino {
				gotSock = true
			}
		}
		if !gotNs || !gotSock {
			t.Errorf("workers=%d: own nsfs fd found %v, socket found %v", workers, gotNs, gotSock)
		}
	}
}

func TestOpenFDAndSockets(t *testing.T) {
	f, err := OpenProcNs(os.Getpid(), ns.Net, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := OpenFD(os.Getpid(), f.Fd(), f.Ino())
	if err != nil {
		t.Fatalf("OpenFD: %v", err)
	}
	g.Close()
	if _, err := OpenFD(os.Getpid(), f.Fd(), f.Ino()+1); !errors.Is(err, ErrChanged) {
		t.Errorf("OpenFD with a wrong inode: %v", err)
	}
	sk, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("socket: %v", err)
	}
	defer unix.Close(sk)
	var st unix.Stat_t
	if err := unix.Fstat(sk, &st); err != nil {
		t.Fatal(err)
	}
	var s Sockets
	defer s.Close()
	ns, err := s.Netns(os.Getpid(), sk, st.Ino)
	if err != nil {
		t.Skipf("pidfd_getfd + SIOCGSKNS: %v", err)
	}
	defer ns.Close()
	if ns.Ino() != f.Ino() {
		t.Errorf("socket's netns %d, want %d", ns.Ino(), f.Ino())
	}
	if _, err := s.Netns(os.Getpid(), sk, st.Ino+1); !errors.Is(err, ErrChanged) {
		t.Errorf("socket with a wrong inode: %v", err)
	}
	if _, err := s.Netns(os.Getpid(), f.Fd(), st.Ino); !errors.Is(err, ErrChanged) {
		t.Errorf("not a socket: %v", err)
	}
}

func TestRouteNSID(t *testing.T) {
	r, err := OpenRoute()
	if err != nil {
		t.Skipf("netlink: %v", err)
	}
	defer r.Close()
	f, err := OpenProcNs(os.Getpid(), ns.Net, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; i < 2; i++ {
		id, err := r.NSID(f.Fd())
		if err != nil {
			t.Fatalf("NSID: %v", err)
		}
		// our own namespace has no id in itself
		if id != NSIDUnassigned {
			t.Errorf("NSID of own netns = %d, want %d", id, NSIDUnassigned)
		}
	}
	if _, err := r.NSID(-1); err == nil {
		t.Errorf("NSID(-1) succeeded")
	}
}

func TestCommandAndStat(t *testing.T) {
	cmd, ok := Command(os.Getpid())
	if !ok || !strings.Contains(cmd, filepath.Base(os.Args[0])) {
		t.Errorf("Command(self) = %q, %v", cmd, ok)
	}
	st, err := ReadStat(os.Getpid())
	if err != nil || st.Pid != os.Getpid() || st.PPid != os.Getppid() {
		t.Errorf("ReadStat(self) = %+v, %v", st, err)
	}
	if uid, err := ProcUID(os.Getpid()); err != nil || int(uid) != os.Geteuid() {
		t.Errorf("ProcUID(self) = %d, %v", uid, err)
	}
	if _, ok := Command(1 << 30); ok {
		t.Errorf("Command of a PID that cannot exist succeeded")
	}
	pids, err := ListPids()
	if err != nil || len(pids) == 0 {
		t.Fatalf("ListPids: %v, %v", pids, err)
	}
}

// TestScanFDProbe: a process's descriptors are found whether they are
// dense (0..N-1) or not.
func TestScanFDProbe(t *testing.T) {
	nsf, err := os.Open(fmt.Sprintf("/proc/%d/ns/uts", os.Getpid()))
	if err != nil {
		t.Skipf("open own uts namespace: %v", err)
	}
	defer nsf.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(nsf.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		extra []*os.File
		fd    int
	}{
		{"dense", []*os.File{nsf}, 3},
		{"gap", []*os.File{nsf, nil, nsf}, 5},
	} {
		cmd := exec.Command("sleep", "30")
		cmd.ExtraFiles = tc.extra
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var types [ns.NTypes]bool
		snap, err := Scan(ScanOptions{Types: types, FDs: true, Workers: 1})
		cmd.Process.Kill()
		cmd.Wait()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, fd := range snap.FDs {
			if fd.Pid == cmd.Process.Pid && fd.Fd == tc.fd && fd.Type == ns.Uts && fd.Ino == st.Ino {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: fd %d of the child not found in %+v", tc.name, tc.fd, snap.FDs)
		}
	}
}

// startReady starts cmd, killed at cleanup, and waits for its "ready"
// line; t is skipped when cmd cannot start.
func startReady(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("%s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make([]byte, 6)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "ready\n" {
		t.Fatalf("%s not ready: %q, %v", cmd.Path, line, err)
	}
}

// TestScanFDBusyGap: a process keeps opening and closing the fd below its
// last one (as a dynamic loader does at the lowest free fd just after
// execve); every scan must still find the last one. Reading fds 0 to N-1
// by name, N the open count, lost that race (CI once, in TestScanFDProbe).
func TestScanFDBusyGap(t *testing.T) {
	// a shell holding 0 1 2 3 and 5 (its uts namespace), opening and
	// closing fd 4 without end
	sh := exec.Command("bash", "-c", `
		exec 3</dev/null 5</proc/self/ns/uts
		for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 5 ] && eval "exec $n>&-"; done
		echo ready
		while :; do exec 4</dev/null; exec 4<&-; done`)
	startReady(t, sh)
	pid := sh.Process.Pid
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/uts", pid), &st); err != nil {
		t.Fatal(err)
	}
	s := newScanner(&ScanOptions{FDs: true}, nsfsDev())
	for i := 0; i < 300; i++ {
		s.fds = s.fds[:0]
		s.path = fmt.Appendf(s.path[:0], "/proc/%d", pid)
		if !s.scanFDs(pid, len(s.path)) {
			t.Fatal("scanFDs: the shell's fd directory not read")
		}
		found := 0
		for _, fd := range s.fds {
			if fd.Fd == 5 && fd.Type == ns.Uts && fd.Ino == st.Ino {
				found++
			}
		}
		if found != 1 {
			t.Fatalf("scan %d: fd 5 (uts namespace) recorded %d times, want once: %+v", i, found, s.fds)
		}
	}
}

// TestScanFDThroughMount: a namespace file opened through a bind mount is
// found by its device, while mounted (its link reads as the mount point)
// and after the unmount (the link reads "/"); its type is the kernel's
// to tell. The mounts are made in a private mount namespace of the child.
func TestScanFDThroughMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (unshare -m, mount)")
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, f := range []string{a, b} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sh := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", `
		mount --bind /proc/self/ns/uts "$1" && mount --bind /proc/self/ns/net "$2" &&
		exec 5<"$1" 6<"$2" && umount -l "$2" && echo ready && exec sleep 30`, "sh", a, b)
	startReady(t, sh)
	want := map[int]uint64{}
	for fd, typ := range map[int]ns.Type{5: ns.Uts, 6: ns.Net} {
		var st unix.Stat_t
		if err := unix.Stat(ProcNsPath(os.Getpid(), typ), &st); err != nil {
			t.Fatal(err)
		}
		want[fd] = st.Ino
	}
	var types [ns.NTypes]bool
	snap, err := Scan(ScanOptions{Types: types, FDs: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range snap.FDs {
		if fd.Pid == sh.Process.Pid && want[fd.Fd] != 0 {
			if fd.Ino != want[fd.Fd] || fd.Typed || fd.Socket != 0 {
				t.Errorf("fd %d: %+v, want inode %d, untyped", fd.Fd, fd, want[fd.Fd])
			}
			delete(want, fd.Fd)
		}
	}
	if len(want) != 0 {
		t.Errorf("not found: fds %v of the child", want)
	}
}
