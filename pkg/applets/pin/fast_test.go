package pin_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/pin"
)

// TestPinFastPath runs each form the C fast path of the cgo build takes
// (parsed by pkg/nsexec/fast_pin.c, carried out by nsexec.c's nsx_pin and
// nsx_unpin), and forms close to them that it must leave to
// the Go applet, twice from the same starting state: as is, and with
// _NSBOX_NOFAST=1 (the Go applet). Both runs must give the same stdout,
// stderr and exit status, and leave the same files (in the scratch
// directory and /run/netns) and mounts. With GODEBUG=inittrace=1, the
// cases marked fast must not start the Go runtime, and the others must
// (the fast path returned to Go without changing anything).
func TestPinFastPath(t *testing.T) {
	bin, tmp := setup(t)
	u := testutil.Unprivileged(t)
	p := target(t, testutil.Opts{}, "unshare", "-n", "sleep", "60")
	up := target(t, testutil.Opts{User: u}, "sleep", "60")
	gone := testutil.Start(t, testutil.Opts{}, "true")
	gone.Wait()
	pid := p.Pid()
	name := fmt.Sprintf("nsboxfast%d", os.Getpid())
	netns := filepath.Join(pin.NetnsDir, name)
	net, _ := ns.ByName("net")
	d := filepath.Join(tmp, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}

	// What a case starts from, besides an empty scratch directory.
	pinned := func(path string) func(t *testing.T) {
		return func(t *testing.T) {
			if err := pin.Pin(pid, net, path, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	stacked := func(path string) func(t *testing.T) {
		return func(t *testing.T) {
			pinned(path)(t)
			if err := unix.Mount(fmt.Sprintf("/proc/%d/ns/net", pid), path, "", unix.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	file := func(path, data string, mode os.FileMode) func(t *testing.T) {
		return func(t *testing.T) {
			if err := os.WriteFile(path, []byte(data), mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	mkdir := func(path string) func(t *testing.T) {
		return func(t *testing.T) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	symlink := func(to, path string) func(t *testing.T) {
		return func(t *testing.T) {
			if err := os.Symlink(to, path); err != nil {
				t.Fatal(err)
			}
		}
	}
	handle := func(dir string) func(t *testing.T) {
		return func(t *testing.T) {
			if _, err := pin.PinDir(pid, dir, []ns.Type{net}, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	pinnedNetns := func(t *testing.T) {
		if err := pin.PinNetns(pid, name); err != nil {
			t.Fatal(err)
		}
	}
	both := func(fs ...func(t *testing.T)) func(t *testing.T) {
		return func(t *testing.T) {
			for _, f := range fs {
				f(t)
			}
		}
	}
	// Run as the command, in a mount namespace of its own where
	// /run/netns is not a mount point (not prepared yet).
	unprepared := []string{"unshare", "-m", "--propagation", "private", "sh", "-c", `while umount -l /run/netns 2>/dev/null; do :; done; exec "$@"`, "sh"}

	type fastCase struct {
		args []string // {pid} {upid} {gone} {d} {n} are replaced
		prep func(t *testing.T)
		fast bool     // the fast path carries it out, without the Go runtime
		dir  string   // run in this directory
		user bool     // run as the test user ({d} is its home)
		wrap []string // run as wrap... BIN pin ARGS
	}
	cases := []fastCase{
		// pin -t PID --net=FILE, in every spelling.
		{args: []string{"-t", "{pid}", "--net={d}/f"}, fast: true},
		{args: []string{"-t{pid}", "--net={d}/f"}, fast: true},
		{args: []string{"--target", "{pid}", "--net={d}/f"}, fast: true},
		{args: []string{"--target={pid}", "--net={d}/f"}, fast: true},
		{args: []string{"--net={d}/f", "-t", "{pid}"}, fast: true},
		{args: []string{"-t", "{pid}", "-n{d}/f"}, fast: true},
		{args: []string{"-t", "0{pid}", "--net={d}/f"}, fast: true},
		{args: []string{"-t", "{pid}", "--net=f"}, fast: true, dir: d},
		{args: []string{"-t", "{pid}", "--net={d}/empty"}, prep: file(d+"/empty", "", 0o600), fast: true},
		// Close to it: the Go applet's.
		{args: []string{"-t", "+{pid}", "--net={d}/f"}},
		{args: []string{"--targ", "{pid}", "--net={d}/f"}},
		{args: []string{"-t", "{pid}", "-t", "{pid}", "--net={d}/f"}},
		{args: []string{"-t", "{pid}", "--net", "{d}/f"}},
		{args: []string{"-t", "{pid}", "--net={d}/f", "--netns", "{n}"}},
		{args: []string{"-t", "{pid}", "--net={d}/f", "{d}/h"}},
		{args: []string{"-t", "{pid}", "--", "--net={d}/f"}},
		{args: []string{"-t"}},
		{args: []string{"-t", "{pid}"}},
		{args: []string{"--net={d}/f"}},
		{args: []string{"-t", "0", "--net={d}/f"}},
		{args: []string{"-t", "abc", "--net={d}/f"}},
		{args: []string{"-t", "", "--net={d}/f"}},
		{args: []string{"-t", "99999999999", "--net={d}/f"}},
		{args: []string{"-t", "{gone}", "--net={d}/f"}},
		{args: []string{"-t", "{pid}", "--net="}},
		{args: []string{"-t", "{pid}", "--net={d}/nodir/f"}},
		{args: []string{"-t", "{pid}", "--net={d}/f"}, prep: pinned(d + "/f")},
		{args: []string{"-t", "{pid}", "--net={d}/regular"}, prep: file(d+"/regular", "data\n", 0o644)},
		{args: []string{"-t", "{pid}", "--net={d}/sub"}, prep: mkdir(d + "/sub")},
		{args: []string{"-t", "{pid}", "--net={d}/link"}, prep: both(file(d+"/empty", "", 0o644), symlink("empty", d+"/link"))},
		// An empty file of mode 0 (a pin killed before its bind) is
		// pinned onto as any empty file.
		{args: []string{"-t", "{pid}", "--net={d}/zero"}, prep: file(d+"/zero", "", 0), fast: true},
		// Two failures: both name the same, the first in pin's order.
		{args: []string{"-t", "{pid}", "--net={d}/nodir/a", "--uts={d}/nodir/b"}},
		{args: []string{"-t", "{pid}", "--uts={d}/nodir/b", "--net={d}/nodir/a"}},
		{args: []string{"-t", "{gone}", "--net={d}/nodir/f"}},
		{args: []string{"-t", "{gone}", "--net={d}/regular"}, prep: file(d+"/regular", "data\n", 0o644)},
		{args: []string{"-t", "{pid}", "--net={d}/nodir/f", "--netns", "{n}"}, prep: file(netns, "", 0)},
		{args: []string{"-t", "{pid}", "--net={d}/nodir/f", "--netns", "a/b"}},

		// pin -t PID --netns NAME.
		{args: []string{"-t", "{pid}", "--netns", "{n}"}, fast: true},
		{args: []string{"--netns={n}", "-t{pid}"}, fast: true},
		{args: []string{"-t", "{pid}", "--netns", "{n}"}, prep: pinnedNetns},
		{args: []string{"-t", "{pid}", "--netns", "{n}"}, prep: file(netns, "", 0)},
		{args: []string{"-t", "{pid}", "--netns", "a/b"}},
		{args: []string{"-t", "{pid}", "--netns", ".."}},
		{args: []string{"-t", "{pid}", "--netns="}},
		{args: []string{"-t", "{pid}", "--netns"}},
		{args: []string{"-t", "{gone}", "--netns", "{n}"}},
		{args: []string{"-t", "{pid}", "--netns", "{n}"}, wrap: unprepared},

		// pin -d FILE, pin -d --netns NAME.
		{args: []string{"-d", "{d}/f"}, prep: pinned(d + "/f"), fast: true},
		{args: []string{"--delete", "{d}/f"}, prep: pinned(d + "/f"), fast: true},
		{args: []string{"-d", "{d}/f"}, prep: stacked(d + "/f"), fast: true},
		{args: []string{"-d", "f"}, prep: pinned(d + "/f"), fast: true, dir: d},
		{args: []string{"-d", "--netns", "{n}"}, prep: pinnedNetns, fast: true},
		{args: []string{"--netns={n}", "--delete"}, prep: pinnedNetns, fast: true},
		{args: []string{"-d"}},
		{args: []string{"-d", "{d}/missing"}},
		{args: []string{"-d", "{d}/regular"}, prep: file(d+"/regular", "data\n", 0o644)},
		{args: []string{"-d", "{d}/sub"}, prep: mkdir(d + "/sub")},
		{args: []string{"-d", "{d}/link"}, prep: both(pinned(d+"/f"), symlink("f", d+"/link"))},
		{args: []string{"-d", "{d}/h"}, prep: handle(d + "/h")},
		{args: []string{"-d", "{d}/f", "{d}/g"}, prep: both(pinned(d+"/f"), pinned(d+"/g"))},
		{args: []string{"-d", "--", "{d}/f"}, prep: pinned(d + "/f")},
		{args: []string{"-d", "-t", "{pid}", "{d}/f"}, prep: pinned(d + "/f")},
		{args: []string{"-d", "/proc/self/ns/net"}},
		{args: []string{"-d", "--netns", "{n}"}},
		{args: []string{"-d", "--netns", "{n}"}, prep: file(netns, "", 0)},
		{args: []string{"-d", "--netns", "a/b"}},
		{args: []string{"-d", "--netns", "{n}", "{d}/f"}, prep: both(pinnedNetns, pinned(d+"/f"))},
		// What a pin killed between creating a file and binding onto it
		// leaves (empty, mode 0) is the Go applet's to remove; a user's
		// empty file is not a pin.
		{args: []string{"-d", "{d}/zero"}, prep: file(d+"/zero", "", 0)},
		{args: []string{"-d", "{d}/empty"}, prep: file(d+"/empty", "", 0o644)},
		{args: []string{"-d", "--netns", "{n}"}, prep: file(netns, "", 0o644)},
		// Two failures: both name the same.
		{args: []string{"-d", "{d}/missing", "{d}/regular"}, prep: file(d+"/regular", "data\n", 0o644)},
		{args: []string{"-d", "{d}/regular", "{d}/missing"}, prep: file(d+"/regular", "data\n", 0o644)},
		{args: []string{"-d", "--netns", "{n}", "{d}/regular"}, prep: file(d+"/regular", "data\n", 0o644)},
		{args: []string{"-d", "--netns", "{n}", "{d}/f"}, prep: pinned(d + "/f")},

		// Without privilege: the mount of a file the fast path created
		// fails, and it removes the file and says so itself; every
		// other refusal comes before a change, and is the Go applet's.
		{args: []string{"-t", "{upid}", "--net={d}/f"}, user: true, fast: true},
		{args: []string{"-t", "{upid}", "--net={d}/empty"}, prep: file(u.Home+"/empty", "", 0o644), user: true},
		{args: []string{"-t", "{upid}", "--netns", "{n}"}, user: true},
		{args: []string{"-t", "{pid}", "--net={d}/f"}, user: true},
		{args: []string{"-d", "{d}/f"}, prep: pinned(u.Home + "/f"), user: true},
		{args: []string{"-d", "--netns", "{n}"}, prep: pinnedNetns, user: true},
	}

	// reset empties dir (releasing the pins in it) and removes the netns
	// pin or file.
	reset := func(t *testing.T, dir string) {
		t.Helper()
		filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err == nil && isPin(path) {
				if err := pin.Unpin(path); err != nil {
					t.Fatal(err)
				}
			}
			return nil
		})
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		if isPin(netns) {
			if err := pin.Unpin(netns); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Remove(netns); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		dir := d
		if c.user {
			dir = u.Home
		}
		args := make([]string, len(c.args))
		r := strings.NewReplacer("{pid}", strconv.Itoa(pid), "{upid}", strconv.Itoa(up.Pid()),
			"{gone}", strconv.Itoa(gone.Pid()), "{d}", dir, "{n}", name)
		for i, a := range c.args {
			args[i] = r.Replace(a)
		}
		label := strings.Join(args, " ")
		if c.user {
			label = "as " + u.Name + ": " + label
		}
		if c.wrap != nil {
			label = strings.Join(c.wrap, " ") + " ... " + label
		}
		run := func(goApplet bool) (testutil.Result, bool, string) {
			t.Helper()
			reset(t, dir)
			if c.prep != nil {
				c.prep(t)
			}
			o := testutil.Opts{Dir: c.dir}
			if c.user {
				o.User = u
			}
			res, started := testutil.RunPath(t, o, goApplet, append(append(append([]string(nil), c.wrap...), bin, "pin"), args...)...)
			state := fastState(t, dir, netns)
			reset(t, dir)
			return res, started, state
		}
		fastRes, fastInit, fastSt := run(false)
		goRes, goInit, goSt := run(true)
		testutil.CheckPath(t, "pin "+label, c.fast, fastInit, goInit)
		if fastRes.Outcome() != goRes.Outcome() {
			t.Errorf("pin %s:\nfast path: %s\nGo applet: %s", label, fastRes.Outcome(), goRes.Outcome())
		}
		if fastSt != goSt {
			t.Errorf("pin %s: the state after the fast path:\n%s\nafter the Go applet:\n%s", label, fastSt, goSt)
		}
		// A fast pin leaves a pin, a fast pin -d none.
		del := false
		for _, a := range c.args {
			del = del || a == "-d" || a == "--delete"
		}
		if c.fast && fastRes.Code == 0 && strings.Contains(fastSt, " pin ") == del {
			t.Errorf("pin %s: exit 0, but the pins are not as they should be:\n%s", label, fastSt)
		}
	}
}

// fastState describes what a pin run leaves: the files under dir and the
// file netns (type, permissions, size, whether a pin and of which
// namespace), and the mounts of this mount namespace without their IDs
// that pin could make: on dir or under it, on /run/netns and on netns (not
// other tests' pins beside it, which come and go meanwhile).
func fastState(t *testing.T, dir, netns string) string {
	t.Helper()
	var b strings.Builder
	describe := func(path string) {
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return
		}
		fmt.Fprintf(&b, "%s %o %d", path, st.Mode, st.Size)
		if isPin(path) {
			fmt.Fprintf(&b, " pin %d", st.Ino)
		}
		b.WriteString("\n")
	}
	filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if path != dir {
			describe(path)
		}
		return nil
	})
	describe(netns)
	var mounts []string
	for _, l := range strings.Split(testutil.ReadFile(t, "/proc/self/mountinfo"), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || !(f[4] == dir || strings.HasPrefix(f[4], dir+"/") || f[4] == pin.NetnsDir || f[4] == netns) {
			continue
		}
		for i := 5; i < len(f) && f[i] != "-"; i++ {
			f[i], _, _ = strings.Cut(f[i], ":") // shared:N, master:N: the group numbers differ
		}
		mounts = append(mounts, strings.Join(f[2:], " "))
	}
	sort.Strings(mounts)
	b.WriteString(strings.Join(mounts, "\n"))
	return b.String()
}
