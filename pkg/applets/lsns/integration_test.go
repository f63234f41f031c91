package lsns_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

// These tests run the built binaries (the cgo build and the pure-Go
// build) against namespaces they make, and util-linux lsns 2.38 on the
// same namespaces where 2.38 has the option or mode. The host runs other
// processes that come and go between two runs, so the comparisons either
// look only at namespaces the test made (-p PID with the types the target
// unshared, a <namespace> argument) or run again on a mismatch.

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

type impl struct {
	name string
	argv []string
}

func (i impl) cmd(args ...string) []string {
	return append(append([]string(nil), i.argv...), args...)
}

// nsboxes is the two builds of the binary, as "BIN lsns".
func nsboxes(t *testing.T) []impl {
	t.Helper()
	return []impl{
		{"cgo", []string{testutil.Binary(t), "lsns"}},
		{"purego", []string{testutil.PureGoBinary(t), "lsns"}},
	}
}

// utilLinux runs the system's lsns by name, so that its messages start with
// "lsns:" as nsbox's do.
func utilLinux(t *testing.T) impl {
	t.Helper()
	testutil.HaveUtilLinux(t, "lsns")
	return impl{"util-linux", []string{"lsns"}}
}

// target starts argv (a util-linux unshare that execs its program) and
// waits until the process is in a network namespace of its own.
func target(t *testing.T, o testutil.Opts, argv ...string) int {
	t.Helper()
	return startTarget(t, o, argv...).Pid()
}

func startTarget(t *testing.T, o testutil.Opts, argv ...string) *testutil.Proc {
	t.Helper()
	p := testutil.Start(t, o, argv...)
	self := testutil.NsInode(t, os.Getpid(), "net")
	for i := 0; i < 500; i++ {
		var st unix.Stat_t
		if unix.Stat(fmt.Sprintf("/proc/%d/ns/net", p.Pid()), &st) == nil && st.Ino != self {
			// and the exec done: the command is the program, not unshare
			if c := testutil.ExecComm(p.Pid()); c != "" && c != "unshare" {
				return p
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%v: no namespaces of its own after 5 s", argv)
	return nil
}

func ino(t *testing.T, pid int, typ string) string {
	return strconv.FormatUint(testutil.NsInode(t, pid, typ), 10)
}

type result struct {
	out, err string
	code     int
}

func run(t *testing.T, u *testutil.User, argv []string) result {
	t.Helper()
	var r testutil.Result
	if u != nil {
		r = testutil.RunAs(t, u, argv...)
	} else {
		r = testutil.Run(t, argv...)
	}
	return result{r.Stdout, r.Stderr, r.Code}
}

// compare runs args through util-linux and both nsbox builds and wants the
// same stdout, stderr and exit status; a mismatch is retried (the host's
// processes move) up to tries times.
func compare(t *testing.T, u *testutil.User, tries int, args ...string) {
	t.Helper()
	ul := utilLinux(t)
	for _, nb := range nsboxes(t) {
		var want, got result
		for i := 0; i < tries; i++ {
			want = run(t, u, ul.cmd(args...))
			got = run(t, u, nb.cmd(args...))
			if got == want {
				break
			}
		}
		if got != want {
			t.Errorf("%s lsns %s: differs from util-linux\n--- util-linux (exit %d):\n%s%s--- nsbox (exit %d):\n%s%s",
				nb.name, strings.Join(args, " "), want.code, want.out, want.err, got.code, got.out, got.err)
		}
	}
}

// TestCompareUtilLinux runs every option 2.38 has on a target in new
// user, net, uts, ipc and mount namespaces (and -p PID, so that only its
// rows show): same bytes as util-linux.
func TestCompareUtilLinux(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	pid := strconv.Itoa(target(t, testutil.Opts{}, "unshare", "-U", "-n", "-u", "-i", "-m", "sleep", "120"))
	own := []string{"-p", pid, "-t", "user", "-t", "net", "-t", "uts", "-t", "ipc", "-t", "mnt"}
	cases := [][]string{
		{},
		{"-J"},
		{"--json"},
		{"-r"},
		{"-l"},
		{"-n"},
		{"-u"},
		{"-W"},
		{"-l", "-W", "-r"},
		{"-n", "-J"},
		{"-o", "NS,TYPE,NPROCS"},
		{"-o", "ns,Type,path,nprocs,PID,ppid,command,uid,user,netnsid,nsfs,pns,ons"},
		{"--output=+PATH,PPID,UID"},
		{"--output-all"},
		{"--output-all", "-J"},
		{"--output-all", "-r"},
		{"--output-all", "-o", "PID"},
		{"-o", "+ONS", "--output-all"},
		{"-o", "NETNSID,NSFS", "-t", "net"},
		// the owner trees show the host's user namespace (the target's
		// owner) too: no NPROCS, it moves
		{"-T", "-o", "NS,TYPE,PID,USER,NETNSID,NSFS,COMMAND"},
		{"-Towner", "-o", "NS,TYPE,PID,COMMAND"},
		{"--tree=owner", "-J", "-o", "NS,TYPE,PID,COMMAND"},
		{"-Tparent", "-o", "NS,TYPE,PID,COMMAND"},
		{"--tree=parent", "-r", "-o", "NS,TYPE,PID,COMMAND"},
		{"-Tprocess"},
		{"-T=process"},
		{"-l", "-T", "-o", "NS,TYPE,PID"},
		{"-o", "NS,PNS,ONS", "-T"},
		{"--task", pid, "-o", "COMMAND,NS"},
		{"--list", "--noheadings", "--raw", "--notruncate", "--nowrap"},
	}
	for _, c := range cases {
		compare(t, nil, 3, append(append([]string(nil), own...), c...)...)
	}
	// the default types, with the host's namespaces in the rows: their
	// process counts move, hence the retries
	compare(t, nil, 20, "-p", pid)
	compare(t, nil, 20, "-p", pid, "-J")
	compare(t, nil, 20, "-p", pid, "-T", "-o", "NS,TYPE,PID,USER,COMMAND")
	compare(t, nil, 20, "-p", pid, "-t", "net")
	compare(t, nil, 20, "-t", "net", "-t", "uts", "-p", pid, "-o", "+NETNSID,NSFS")
}

// TestCompareNamespaceArgument lists the processes of a namespace: a shell
// and its two children, as a tree.
func TestCompareNamespaceArgument(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	pid := target(t, testutil.Opts{}, "unshare", "-n", "-u", "sh", "-c", "sleep 120 & sleep 121 & wait")
	net := ino(t, pid, "net")
	// wait for both children
	for i := 0; i < 500; i++ {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if len(strings.Fields(string(b))) == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range [][]string{
		{net},
		{net, "-l"},
		{net, "-J"},
		{net, "-r"},
		{net, "-n", "-u"},
		{net, "-o", "+NS,TYPE,PATH"},
		{"-o", "PID,COMMAND", net},
		{net, "-T"},
		{"-J", "-l", net},
		{"--", net},
	} {
		compare(t, nil, 3, c...)
	}
}

// TestCompareBadInput: refusals, with util-linux's messages and statuses.
func TestCompareBadInput(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	for _, c := range [][]string{
		{"-J", "-r"},
		{"-r", "--json"},
		{"-o", "FOO"},
		{"-o", "NS,FOO,TYPE"},
		{"-o", "NS,"},
		{"-o", ",NS"},
		{"-o", ""},
		{"-o", "+"},
		{"-t", "bogus"},
		{"-t", "NET"},
		{"-p", "abc"},
		{"-p", "99999999999"},
		{"-p", ""},
		{"-T", "parent"},
		{"-Tfoo"},
		{"--tree=bogus"},
		{"-p", "1", "5"},
		{"--", "-1"},
		{"abc"},
		{"5"},
		{"18446744073709551616"},
		{"--bogus"},
		{"-Z"},
		{"-p"},
		{"--task"},
		{"-o"},
		{"--t"},
		{"-t", "bogus", "-J", "-r"},
		{"-J", "-r", "-t", "bogus"},
		{"-o", "FOO", "abc"},
	} {
		compare(t, nil, 1, c...)
	}
	// --help and --version: stdout, status 0 (the texts differ: nsbox
	// has the 2.43 options and its own version)
	for _, nb := range nsboxes(t) {
		for _, a := range []string{"-h", "--help", "-V", "--version"} {
			r := run(t, nil, nb.cmd(a))
			if r.code != 0 || r.err != "" || r.out == "" {
				t.Errorf("%s lsns %s: %+v", nb.name, a, r)
			}
		}
	}
}

// TestNewerOptions checks what 2.38 lacks, as 2.43 does it: -P, -Q, -H.
func TestNewerOptions(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	ipid := target(t, testutil.Opts{}, "unshare", "-n", "-u", "sleep", "120")
	pid := strconv.Itoa(ipid)
	net := ino(t, ipid, "net")
	uts := ino(t, ipid, "uts")
	both := net + " net\n" + uts + " uts\n" // by inode
	if testutil.NsInode(t, ipid, "uts") < testutil.NsInode(t, ipid, "net") {
		both = uts + " uts\n" + net + " net\n"
	}
	for _, nb := range nsboxes(t) {
		for _, tc := range []struct {
			args      []string
			out, err  string
			code      int
			outPrefix bool
		}{
			{args: []string{"-p", pid, "-t", "net", "-Q", `TYPE == "net"`, "-n", "-o", "NS,TYPE"}, out: net + " net\n"},
			{args: []string{"-p", pid, "-t", "net", "-t", "uts", "-Q", "NS == " + net, "-n", "-r", "-o", "TYPE"}, out: "net\n"},
			{args: []string{"-p", pid, "-t", "net", "-t", "uts", "--filter", `TYPE eq 'uts' or TYPE eq "net"`, "-n", "-r", "-o", "NS,TYPE"}, out: both},
			{args: []string{"-p", pid, "-t", "net", "-t", "uts", "-Q", `NPROCS == 1 && !(TYPE =~ "^n")`, "-n", "-r", "-o", "TYPE,NPROCS"}, out: "uts 1\n"},
			// a filter column that is not shown
			{args: []string{"-p", pid, "-t", "uts", "-Q", `PID == ` + pid, "-n", "-r", "-o", "TYPE"}, out: "uts\n"},
			{args: []string{"-p", pid, "-t", "uts", "-Q", `PID == 1`, "-o", "TYPE"}, out: ""},
			{args: []string{"-p", pid, "-t", "uts", "-Q", `PID == 1`, "-J"}, out: "{\n   \"namespaces\": [\n\n   ]\n}\n"},
			{args: []string{"-Q", "FOO == 1"}, err: "lsns: unknown column: FOO\nlsns: failed to initialize filter\n", code: 1},
			{args: []string{"-Q", "NS =="}, err: "lsns: failed to parse \"NS ==\": syntax error, unexpected end of file\n", code: 1},
			{args: []string{"-Q", `TYPE =~ "("`}, err: "lsns: failed to parse \"TYPE =~ \"(\"\": Unmatched ( or \\(\n", code: 1},
			{args: []string{"-p", pid, "-Q", "TYPE == 5"}, err: "lsns: failed to apply filter: Invalid argument\n", code: 1},
			{args: []string{"-P", "-p", pid}, err: "lsns: mutually exclusive arguments: --persistent --task\n", code: 1},
			{args: []string{"-p", pid, "--persistent"}, err: "lsns: mutually exclusive arguments: --persistent --task\n", code: 1},
			{args: []string{"-H"}, out: "     NS <integer> namespace identifier (inode number)\n", outPrefix: true},
			{args: []string{"-H", "-r"}, out: "NS <integer> namespace\\x20identifier\\x20(inode\\x20number)\n", outPrefix: true},
			{args: []string{"--list-columns", "-J"}, out: "{\n   \"lsns-columns\": [\n      {\n         \"holder\": \"NS\",\n", outPrefix: true},
		} {
			r := run(t, nil, nb.cmd(tc.args...))
			okOut := r.out == tc.out || (tc.outPrefix && strings.HasPrefix(r.out, tc.out))
			if !okOut || r.err != tc.err || r.code != tc.code {
				t.Errorf("%s lsns %q:\n got exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q",
					nb.name, tc.args, r.code, r.out, r.err, tc.code, tc.out, tc.err)
			}
		}
		r := run(t, nil, nb.cmd("-H"))
		if n := strings.Count(r.out, "\n"); n != 13 {
			t.Errorf("%s lsns -H: %d lines", nb.name, n)
		}
	}
}

// TestJSONTypes decodes the full JSON output: numbers are numbers, empty
// strings null, trees nest under "children".
func TestJSONTypes(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	pid := target(t, testutil.Opts{}, "unshare", "-n", "sleep", "120")
	net := testutil.NsInode(t, pid, "net")
	for _, nb := range nsboxes(t) {
		for _, args := range [][]string{{"-J"}, {"-J", "-l", "--output-all"}, {"-J", "-T"}, {"-J", "-t", "net", "-o", "NS,NETNSID,NSFS"}} {
			r := run(t, nil, nb.cmd(args...))
			var doc map[string][]map[string]any
			if err := json.Unmarshal([]byte(r.out), &doc); err != nil || r.code != 0 {
				t.Fatalf("%s lsns %v: exit %d, %v\n%s", nb.name, args, r.code, err, r.out)
			}
			var found map[string]any
			var walk func(rows []map[string]any)
			walk = func(rows []map[string]any) {
				for _, row := range rows {
					if v, ok := row["ns"].(float64); ok && uint64(v) == net {
						found = row
					} else if !ok {
						t.Errorf("%s %v: ns is %T", nb.name, args, row["ns"])
					}
					if n, ok := row["nprocs"]; ok {
						if _, isNum := n.(float64); !isNum {
							t.Errorf("%s %v: nprocs is %T", nb.name, args, n)
						}
					}
					if c, ok := row["children"]; ok {
						b, _ := json.Marshal(c)
						var kids []map[string]any
						json.Unmarshal(b, &kids)
						walk(kids)
					}
				}
			}
			walk(doc["namespaces"])
			if len(doc) != 1 || found == nil {
				t.Errorf("%s lsns %v: no row for the target's netns %d", nb.name, args, net)
				continue
			}
			if args[len(args)-1] == "NS,NETNSID,NSFS" {
				if found["netnsid"] != "unassigned" || found["nsfs"] != nil {
					t.Errorf("%s: netnsid %v, nsfs %v", nb.name, found["netnsid"], found["nsfs"])
				}
			}
		}
	}
}

// pinNet pins a new network namespace (util-linux unshare --net=FILE) and
// unmounts it at cleanup.
func pinNet(t *testing.T, dir, name string) (path, inode string) {
	t.Helper()
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(path, unix.MNT_DETACH) })
	if r := testutil.Run(t, "unshare", "--net="+path, "true"); r.Code != 0 {
		t.Fatalf("unshare --net=%s: %v", path, r)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return path, strconv.FormatUint(st.Ino, 10)
}

// TestPersistent: a namespace held only by an nsfs bind mount is listed
// with NPROCS 0 and its mount points (util-linux 2.39+; 2.38 misses it).
func TestPersistent(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := t.TempDir()
	pin, nsIno := pinNet(t, dir, "net")
	second := filepath.Join(dir, "again")
	if err := os.WriteFile(second, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(pin, second, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(second, unix.MNT_DETACH) })
	for _, nb := range nsboxes(t) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"-P", "-n", "-r", "-o", "NS,TYPE,NPROCS,PID,NSFS", "-Q", "NS == " + nsIno}, nsIno + " net 0  " + pin + "," + second + "\n"},
			{[]string{"-t", "net", "-n", "-l", "-W", "-o", "NS,NPROCS,NSFS", "-Q", "NS == " + nsIno}, nsIno + "      0 " + pin + "," + second + "\n"},
			{[]string{"-t", "net", "-n", "-l", "-o", "NS,NSFS,TYPE", "-Q", "NS == " + nsIno}, nsIno + " " + pin + "   net\n           " + second + " \n"},
			{[]string{"-t", "net", "-J", "-l", "-o", "NS,PID,NSFS", "-Q", "NPROCS == 0 && NS == " + nsIno},
				"{\n   \"namespaces\": [\n      {\n         \"ns\": " + nsIno + ",\n         \"pid\": null,\n         \"nsfs\": \"" + pin + "\\n" + second + "\"\n      }\n   ]\n}\n"},
			{[]string{nsIno}, ""},
		} {
			r := run(t, nil, nb.cmd(tc.args...))
			if r.code != 0 || r.err != "" || r.out != tc.want {
				t.Errorf("%s lsns %q: exit %d\n%s%s\nwant:\n%s", nb.name, tc.args, r.code, r.out, r.err, tc.want)
			}
		}
		// the owner of the pinned namespace is the initial user namespace
		r := run(t, nil, nb.cmd("-n", "-r", "-o", "ONS,UID,USER", "-Q", "NS == "+nsIno))
		if want := testutil.NsInode(t, os.Getpid(), "user"); r.out != fmt.Sprintf("%d 0 root\n", want) {
			t.Errorf("%s: owner row %q", nb.name, r.out)
		}
		r = run(t, nil, nb.cmd("--dot", "-P", "-t", "net"))
		for _, w := range []string{"digraph lsns {", "ns" + nsIno + " [label=\"net " + nsIno + "\\nno process\"", "label=\"" + pin + "\"];", "-> ns" + nsIno + " [style=dotted, label=\"pin\"]"} {
			if !strings.Contains(r.out, w) {
				t.Errorf("%s --dot: no %q in\n%s", nb.name, w, r.out)
			}
		}
	}
}

// TestCoveredPin: a pin whose mount point now leads to a FIFO (a tmpfs
// mounted over its directory, with a FIFO of the pin's name: what an
// unmount between reading mountinfo and opening leaves) is looked at, not
// opened for reading: lsns does not wait on the FIFO, and lists what it
// can.
func TestCoveredPin(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := filepath.Join(t.TempDir(), "pins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pinNet(t, dir, "net")
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mkfifo(filepath.Join(dir, "net"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, nb := range nsboxes(t) {
		r := testutil.RunWith(t, testutil.Opts{Timeout: 10 * time.Second}, nb.cmd("-t", "net", "-n", "-o", "NS,NSFS")...)
		if r.Code != 0 || r.Stderr != "" || r.TimedOut {
			t.Errorf("%s lsns with a pin covered by a FIFO: %v", nb.name, r)
		}
	}
}

// TestHeldByDescriptor: namespaces held only by an open file descriptor or
// by a socket are listed with NPROCS 0.
func TestHeldByDescriptor(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	// a net namespace held by fd 3 of a sleeping shell
	tp := startTarget(t, testutil.Opts{}, "unshare", "-n", "-u", "sleep", "120")
	tpid := tp.Pid()
	netIno := ino(t, tpid, "net")
	utsIno := ino(t, tpid, "uts")
	holder := testutil.Start(t, testutil.Opts{}, "sh", "-c", fmt.Sprintf("exec 3</proc/%d/ns/uts; echo ready; exec sleep 120", tpid))
	holder.WaitOutput("ready", 5*time.Second)

	// a socket made in the target's net namespace, kept by this process
	sock := socketIn(t, fmt.Sprintf("/proc/%d/ns/net", tpid))
	defer unix.Close(sock)

	tp.Stop()
	for _, nb := range nsboxes(t) {
		r := run(t, nil, nb.cmd("-n", "-r", "-o", "NS,TYPE,NPROCS", "-Q", "NS == "+utsIno+" || NS == "+netIno))
		want := fmt.Sprintf("%s net 0\n%s uts 0\n", netIno, utsIno)
		if netIno > utsIno {
			want = fmt.Sprintf("%s uts 0\n%s net 0\n", utsIno, netIno)
		}
		if r.code != 0 || r.err != "" || r.out != want {
			t.Errorf("%s: exit %d\n%s%s\nwant:\n%s", nb.name, r.code, r.out, r.err, want)
		}
		r = run(t, nil, nb.cmd("--dot", "-Q", "NS == "+utsIno))
		if !strings.Contains(r.out, fmt.Sprintf("pid%d -> ns%s [style=dotted, label=\"fd 3\"]", holder.Pid(), utsIno)) {
			t.Errorf("%s --dot: no fd edge in\n%s", nb.name, r.out)
		}
	}
}

// socketIn makes a UDP socket in the network namespace of the namespace
// file nsPath, from a locked thread that goes back to ours.
func socketIn(t *testing.T, nsPath string) int {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(self)
	target, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	sk, serr := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
		panic("cannot return to the test's network namespace: " + err.Error())
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return sk
}

// TestVanishingPins lists while pins come and go: never a warning, always
// status 0 (util-linux prints "Unsupported ioctl NS_GET_NSTYPE" there).
func TestVanishingPins(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := t.TempDir()
	pin, _ := pinNet(t, dir, "net")
	stop := make(chan struct{})
	done := make(chan struct{})
	var paths []string
	for i := 0; i < 4; i++ {
		p := filepath.Join(dir, fmt.Sprintf("churn%d", i))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	go func() {
		defer close(done)
		for n := 0; n < 100000; n++ {
			select {
			case <-stop:
				return
			default:
			}
			p := paths[n%len(paths)]
			unix.Mount(pin, p, "", unix.MS_BIND, "")
			unix.Unmount(p, unix.MNT_DETACH)
		}
	}()
	defer func() {
		close(stop)
		<-done
		for _, p := range paths {
			unix.Unmount(p, unix.MNT_DETACH)
		}
	}()
	for _, nb := range nsboxes(t) {
		for i := 0; i < 15; i++ {
			for _, args := range [][]string{{"-P"}, {"-t", "net", "--output-all"}, {"-T", "-t", "net", "-t", "user"}} {
				r := run(t, nil, nb.cmd(args...))
				if r.code != 0 || r.err != "" {
					t.Fatalf("%s lsns %v: exit %d, stderr %q", nb.name, args, r.code, r.err)
				}
			}
		}
	}
}

// TestUnprivileged compares with util-linux as the test user, on a
// namespace the user made: others' namespaces are out of reach (EACCES)
// and skipped silently by both.
func TestUnprivileged(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	u := testutil.Unprivileged(t)
	pid := strconv.Itoa(target(t, testutil.Opts{User: u}, "unshare", "-r", "-n", "-u", "sleep", "120"))
	own := []string{"-p", pid, "-t", "user", "-t", "net", "-t", "uts"}
	for _, c := range [][]string{
		{},
		{"-J"},
		{"--output-all"},
		// the trees show the host's user namespace, whose lowest PID the
		// user can see is lsns itself: no PID, no COMMAND
		{"-r", "-T", "-o", "NS,TYPE,USER"},
		{"-Tparent", "-o", "NS,TYPE,PNS,ONS"},
		{"-o", "+NETNSID,NSFS,UID"},
	} {
		compare(t, u, 3, append(append([]string(nil), own...), c...)...)
	}
	compare(t, u, 3, ino(t, mustAtoi(pid), "net"))
	for _, nb := range nsboxes(t) {
		r := run(t, u, nb.cmd("-n", "-r", "-o", "NS", "-Q", "NS == "+ino(t, mustAtoi(pid), "net")))
		if r.code != 0 || r.err != "" || r.out != ino(t, mustAtoi(pid), "net")+"\n" {
			t.Errorf("%s as %s: %+v", nb.name, u.Name, r)
		}
		r = run(t, u, nb.cmd())
		if r.code != 0 || r.err != "" || !strings.Contains(r.out, " "+u.Name+" ") {
			t.Errorf("%s lsns as %s: exit %d, stderr %q, no row of the user", nb.name, u.Name, r.code, r.err)
		}
	}
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// TestWriteError: a full standard output is util-linux's message.
func TestWriteError(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	for _, nb := range nsboxes(t) {
		r := testutil.RunWith(t, testutil.Opts{}, "sh", "-c", strings.Join(nb.cmd("-p", strconv.Itoa(os.Getpid())), " ")+" >/dev/full")
		if r.Code != 1 || r.Stderr != "lsns: write error: No space left on device\n" {
			t.Errorf("%s lsns >/dev/full: %v", nb.name, r)
		}
	}
}

// TestCompareGhost: a user namespace no process is in any more (its only
// process exec'd an unshare -U), read from the kernel for the trees.
func TestCompareGhost(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	ipid := target(t, testutil.Opts{}, "unshare", "-U", "-r", "-n", "sh", "-c", "exec unshare -U -r sleep 120")
	// wait for the inner unshare's exec
	for i := 0; i < 500; i++ {
		if testutil.ExecComm(ipid) == "sleep" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	pid := strconv.Itoa(ipid)
	for _, c := range [][]string{
		{"-p", pid, "-t", "user", "-T", "-o", "NS,TYPE,PID,USER,COMMAND"},
		{"-p", pid, "-t", "user", "-Tparent", "-o", "NS,TYPE,PID,PNS,ONS"},
		{"-p", pid, "-t", "user", "-t", "net", "-T", "-J", "-o", "NS,TYPE,PID,UID,COMMAND"},
		{"-p", pid, "-t", "user", "-o", "NS,TYPE,PID,PNS,ONS,UID,USER"},
	} {
		compare(t, nil, 3, c...)
	}
	// the ghost has no process: NPROCS 0, and its creator (root) as USER
	for _, nb := range nsboxes(t) {
		r := run(t, nil, nb.cmd("-p", pid, "-t", "user", "-T", "-r", "-n", "-o", "TYPE,NPROCS,USER"))
		if !strings.Contains(r.out, "user 0 root\n") || r.code != 0 {
			t.Errorf("%s: no ghost row in\n%s%s", nb.name, r.out, r.err)
		}
	}
}
