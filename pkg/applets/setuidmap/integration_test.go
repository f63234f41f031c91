package setuidmap_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nsbox/nsbox/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// capsCopy is like suidCopy, with file capabilities (setcap) instead of the
// set-user-ID bit: cap_setuid, cap_setgid and cap_setfcap, as "make
// install-setcap" installs it.
func capsCopy(t *testing.T, bin string) string {
	t.Helper()
	return testutil.CapsCopy(t, bin, "cap_setuid,cap_setgid,cap_setfcap+ep", appletNames...)
}

// appletNames are linked to the copies.
var appletNames = []string{"setuidmap", "newuidmap", "newgidmap", "unshare", "nsenter"}

// suidCopy is a set-user-ID root copy of bin with the applet names linked
// to it (testutil.SetuidCopy).
func suidCopy(t *testing.T, bin string) string {
	t.Helper()
	return testutil.SetuidCopy(t, bin, appletNames...)
}

// target starts "unshare -U sleep" (util-linux) as u and returns its PID
// once it is in its new user namespace.
func target(t *testing.T, u *testutil.User) int {
	t.Helper()
	p := testutil.Start(t, testutil.Opts{User: u}, "unshare", "-U", "sleep", "1000")
	self, _ := os.Readlink("/proc/self/ns/user")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", p.Pid())); err == nil && ns != self {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.Pid())); strings.HasSuffix(exe, "/sleep") {
				return p.Pid()
			}
		}
	}
	t.Fatalf("target %d never entered a user namespace", p.Pid())
	return 0
}

// file is /proc/PID/NAME with each line's fields joined by one space.
func file(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines = append(lines, strings.Join(f, " "))
		}
	}
	return strings.Join(lines, "\n")
}

func itoa(n int) string { return strconv.Itoa(n) }

type fixture struct {
	u                   *testutil.User
	dir                 string // the set-user-ID copy and its links
	uid, gid, sub, subg string
}

func setup(t *testing.T) *fixture {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	u := testutil.Unprivileged(t)
	return &fixture{u: u, dir: suidCopy(t, testutil.Binary(t)), uid: itoa(u.UID), gid: itoa(u.GID),
		sub: itoa(u.SubUIDStart), subg: itoa(u.SubGIDStart)}
}

func (f *fixture) run(t *testing.T, applet string, args ...string) testutil.Result {
	t.Helper()
	return testutil.RunAs(t, f.u, append([]string{filepath.Join(f.dir, applet)}, args...)...)
}

// TestAccepted: the maps an unprivileged user may write through the
// set-user-ID install, and what they leave in the target.
func TestAccepted(t *testing.T) {
	f := setup(t)
	sub, subg := f.u.SubUIDStart, f.u.SubGIDStart
	own := "0 " + f.uid + " 1\n1 " + f.sub + " 65536"
	for _, c := range []struct {
		name               string
		applet             string
		args               []string // PID is appended (setuidmap) or put first (newuidmap)
		uidMap, gidMap, sg string
	}{
		{"own+block", "setuidmap", []string{"-u", "0:" + f.uid + ":1", "-u", "1:" + f.sub + ":65536"}, own, "", "allow"},
		{"newuidmap", "newuidmap", []string{"0", f.uid, "1", "1", f.sub, "65536"}, own, "", "allow"},
		{"auto", "setuidmap", []string{"-u", "auto", "-g", "auto"}, "0 " + f.sub + " 65536", "0 " + f.subg + " 65536", "allow"},
		{"subids", "setuidmap", []string{"-u", "subids", "-g", "subids"}, f.sub + " " + f.sub + " 65536", f.subg + " " + f.subg + " 65536", "allow"},
		{"rootless", "setuidmap", []string{"--rootless"}, own, "0 " + f.gid + " 1\n1 " + f.subg + " 65536", "allow"},
		{"gid own: deny", "setuidmap", []string{"-g", "0:" + f.gid + ":1"}, "", "0 " + f.gid + " 1", "deny"},
		{"newgidmap own: deny", "newgidmap", []string{"0", f.gid, "1"}, "", "0 " + f.gid + " 1", "deny"},
		{"gid block: allow", "setuidmap", []string{"-g", "0:" + itoa(subg+10) + ":100"}, "", "0 " + itoa(subg+10) + " 100", "allow"},
		{"gid block, --setgroups deny", "setuidmap", []string{"--setgroups=deny", "-g", "0:" + f.subg + ":65536"}, "", "0 " + f.subg + " 65536", "deny"},
		{"the last id of the block", "setuidmap", []string{"-u", "0:" + itoa(sub+65535) + ":1"}, "0 " + itoa(sub+65535) + " 1", "", "allow"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pid := target(t, f.u)
			args := append(append([]string{}, c.args...), itoa(pid))
			if c.applet != "setuidmap" {
				args = append([]string{itoa(pid)}, c.args...)
			}
			r := f.run(t, c.applet, args...)
			if r.Code != 0 || r.Stderr != "" || r.Stdout != "" {
				t.Fatalf("%s %v: %s", c.applet, args, r)
			}
			if got := file(t, pid, "uid_map"); got != c.uidMap {
				t.Errorf("uid_map %q, want %q", got, c.uidMap)
			}
			if got := file(t, pid, "gid_map"); got != c.gidMap {
				t.Errorf("gid_map %q, want %q", got, c.gidMap)
			}
			if got := file(t, pid, "setgroups"); got != c.sg {
				t.Errorf("setgroups %q, want %q", got, c.sg)
			}
		})
	}
}

// TestAcceptedPureGo: the CGO_ENABLED=0 build, set-user-ID, writes the
// rootless maps too (no C constructor; the Go runtime's own threads).
func TestAcceptedPureGo(t *testing.T) {
	f := setup(t)
	f.dir = suidCopy(t, testutil.PureGoBinary(t))
	pid := target(t, f.u)
	if r := f.run(t, "setuidmap", "--rootless", itoa(pid)); r.Code != 0 || r.Stderr != "" {
		t.Fatal(r)
	}
	if got := file(t, pid, "uid_map"); got != "0 "+f.uid+" 1\n1 "+f.sub+" 65536" {
		t.Errorf("uid_map %q", got)
	}
	if got := file(t, pid, "gid_map"); got != "0 "+f.gid+" 1\n1 "+f.subg+" 65536" {
		t.Errorf("gid_map %q", got)
	}
}

// TestDryRun: the exact lines and the reasons; nothing written.
func TestDryRun(t *testing.T) {
	f := setup(t)
	pid := target(t, f.u)
	r := f.run(t, "setuidmap", "--dry-run", "-u", "0:"+f.uid+":1", "-u", "1:"+f.sub+":65536", "-g", "0:"+f.gid+":1", itoa(pid))
	want := "uid_map:\n0 " + f.uid + " 1\n1 " + f.sub + " 65536\n" +
		"# 0 " + f.uid + " 1: count 1 and outside " + f.uid + " is your own uid\n" +
		"# 1 " + f.sub + " 65536: outside " + f.sub + "-" + itoa(f.u.SubUIDStart+65535) + " is in /etc/subuid nsboxtest:" + f.sub + ":65536\n" +
		"setgroups:\ndeny\n# the gid map uses no /etc/subgid range\n" +
		"gid_map:\n0 " + f.gid + " 1\n# 0 " + f.gid + " 1: count 1 and outside " + f.gid + " is your own gid\n"
	if r.Code != 0 || r.Stdout != want || r.Stderr != "" {
		t.Fatalf("got %s\nwant stdout:\n%s", r, want)
	}
	if file(t, pid, "uid_map") != "" || file(t, pid, "gid_map") != "" || file(t, pid, "setgroups") != "allow" {
		t.Errorf("--dry-run wrote something")
	}
}

// TestRefused: every refusal of BEHAVIOUR.md §9, exact message, exit 1,
// nothing written; where newuidmap behaves the same, its message is
// compared too.
func TestRefused(t *testing.T) {
	f := setup(t)
	sub := f.u.SubUIDStart
	end := itoa(sub + 65536)
	many := []string{}
	for i := 0; i < 341; i++ {
		many = append(many, "-u", fmt.Sprintf("%d:%d:1", i, sub+i))
	}
	for _, c := range []struct {
		name   string
		args   []string // setuidmap's; the PID is appended
		msg    string   // after "setuidmap: "; PID is replaced
		triple []string // newuidmap's equivalent, if it says the same
		theirs string   // newuidmap's message when it differs from ours
	}{
		{"another user's range", []string{"-u", "0:" + end + ":10"},
			"uid range [0-10) -> [" + end + "-" + itoa(sub+65546) + ") not allowed", []string{"0", end, "10"}, ""},
		{"one past the end", []string{"-u", "0:" + f.sub + ":65537"},
			"uid range [0-65537) -> [" + f.sub + "-" + itoa(sub+65537) + ") not allowed", []string{"0", f.sub, "65537"}, ""},
		{"not own uid", []string{"-u", "0:" + itoa(f.u.UID+1) + ":1"},
			"uid range [0-1) -> [" + itoa(f.u.UID+1) + "-" + itoa(f.u.UID+2) + ") not allowed", []string{"0", itoa(f.u.UID + 1), "1"}, ""},
		{"own uid count 2", []string{"-u", "0:" + f.uid + ":2"},
			"uid range [0-2) -> [" + f.uid + "-" + itoa(f.u.UID+2) + ") not allowed", []string{"0", f.uid, "2"}, ""},
		{"count 0", []string{"-u", "0:" + f.uid + ":0"},
			"invalid range '0:" + f.uid + ":0': count must be at least 1", []string{"0", f.uid, "0"},
			"uid range [0-0) -> [" + f.uid + "-" + f.uid + ") not allowed"},
		{"overflow", []string{"-u", "0:4294967295:1"},
			"invalid range '0:4294967295:1': overflow: ids end at 4294967294", []string{"0", "4294967295", "1"}, "subuid overflow detected."},
		{"not decimal", []string{"-u", "0:0x10:1"}, "invalid range '0:0x10:1': '0x10' is not a decimal 32-bit number", nil, ""},
		{"overlap inside", []string{"-u", "0:" + f.uid + ":1", "-u", "0:" + f.sub + ":10"},
			"uid map: ranges 0:" + f.uid + ":1 and 0:" + f.sub + ":10 overlap inside", nil, ""},
		{"overlap outside", []string{"-u", "0:" + f.sub + ":10", "-u", "100:" + itoa(sub+5) + ":10"},
			"uid map: ranges 0:" + f.sub + ":10 and 100:" + itoa(sub+5) + ":10 overlap outside", nil, ""},
		{"341 ranges", many, "uid map: too many ranges: 341 (the kernel takes at most 340)", nil, ""},
		{"gid of another", []string{"-g", "0:" + itoa(f.u.GID+1) + ":1"},
			"gid range [0-1) -> [" + itoa(f.u.GID+1) + "-" + itoa(f.u.GID+2) + ") not allowed", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			pid := target(t, f.u)
			r := f.run(t, "setuidmap", append(append([]string{}, c.args...), itoa(pid))...)
			if r.Code != 1 || r.Stdout != "" || r.Stderr != "setuidmap: "+c.msg+"\n" {
				t.Errorf("got %s\nwant: setuidmap: %s", r, c.msg)
			}
			if c.triple != nil {
				theirs := c.msg
				if c.theirs != "" {
					theirs = c.theirs
				}
				args := append([]string{itoa(pid)}, c.triple...)
				ours := f.run(t, "newuidmap", args...)
				real := testutil.RunAs(t, f.u, append([]string{"/usr/bin/newuidmap"}, args...)...)
				if real.Code != 1 || real.Stderr != "newuidmap: "+theirs+"\n" {
					t.Errorf("shadow's newuidmap: %s\nwant: newuidmap: %s", real, theirs)
				}
				if c.theirs == "" && (ours.Code != real.Code || ours.Stderr != real.Stderr) {
					t.Errorf("nsbox newuidmap: %s\nshadow's: %s", ours, real)
				}
				// newuidmap's form quotes the range as given: "0 1000 0".
				msg := strings.Replace(c.msg, "'"+strings.Join(c.triple, ":")+"'", "'"+strings.Join(c.triple, " ")+"'", 1)
				if c.theirs != "" && (ours.Code != 1 || ours.Stderr != "newuidmap: "+msg+"\n") && ours.Stderr != "newuidmap: "+c.theirs+"\n" {
					t.Errorf("nsbox newuidmap: %s", ours)
				}
			}
			if file(t, pid, "uid_map") != "" || file(t, pid, "gid_map") != "" || file(t, pid, "setgroups") != "allow" {
				t.Errorf("a refused call wrote something")
			}
		})
	}
}

// TestTooLong: a map of at most 340 ranges that is 4096 bytes or more
// once written out passes every other check, and the kernel refuses it
// (EINVAL) in its one write: setuidmap refuses it first, with its own
// message, in --dry-run too, and under newuidmap's name.
func TestTooLong(t *testing.T) {
	f := setup(t)
	sub := f.u.SubUIDStart
	line := func(i int) string { return fmt.Sprintf("%d %d 1\n", 4000000000+i, sub+i) }
	var specs, triples []string
	n := 0
	for size := 0; size < 4096; n++ {
		specs = append(specs, "-u", fmt.Sprintf("%d:%d:1", 4000000000+n, sub+n))
		triples = append(triples, fmt.Sprint(4000000000+n), fmt.Sprint(sub+n), "1")
		size += len(line(n))
	}
	size := 0
	for i := 0; i < n; i++ {
		size += len(line(i))
	}
	msg := fmt.Sprintf("uid map: too long: %d ranges make %d bytes (the kernel takes at most 4095 in one write)", n, size)
	for _, c := range []struct {
		applet string
		args   func(pid string) []string
	}{
		{"setuidmap", func(pid string) []string { return append(append([]string{}, specs...), pid) }},
		{"setuidmap", func(pid string) []string { return append(append([]string{"--dry-run"}, specs...), pid) }},
		{"newuidmap", func(pid string) []string { return append([]string{pid}, triples...) }},
	} {
		pid := target(t, f.u)
		r := f.run(t, c.applet, c.args(itoa(pid))...)
		if r.Code != 1 || r.Stdout != "" || r.Stderr != c.applet+": "+msg+"\n" {
			t.Errorf("%s with %d ranges: %s\nwant: %s: %s", c.applet, n, r, c.applet, msg)
		}
		if file(t, pid, "uid_map") != "" {
			t.Errorf("%s: a refused map was written", c.applet)
		}
	}
}

// TestCompatNumbers: newuidmap's arguments are read as shadow's newuidmap
// reads them (strtoul, base 0: octal after 0, hexadecimal after 0x,
// blanks and a + first): the same map as shadow's from the same words;
// what nsbox would read otherwise it refuses, writing nothing, and never
// writes another number than shadow.
func TestCompatNumbers(t *testing.T) {
	f := setup(t)
	uid, sub := f.u.UID, f.u.SubUIDStart
	for _, c := range []struct {
		args    []string
		refused bool // by both
		ours    bool // refused by nsbox only ("-0": shadow 4.13 reads 0)
	}{
		{args: []string{"0", fmt.Sprintf("0x%x", uid), "1", "1", fmt.Sprintf("0%o", sub), "0x10000"}},
		{args: []string{"+0", " " + itoa(uid), "01", "\t1", fmt.Sprintf("0X%X", sub), "+65536"}},
		{args: []string{"00", fmt.Sprintf(" +0%o", uid), "0X1"}},
		{args: []string{"0", itoa(uid), "08"}, refused: true},
		{args: []string{"0", itoa(uid) + " ", "1"}, refused: true},
		{args: []string{"0", "0x", "1"}, refused: true},
		{args: []string{"0", itoa(uid), "0x100000001"}, refused: true},
		{args: []string{"-0", itoa(uid), "1"}, ours: true},
	} {
		ours, theirs := target(t, f.u), target(t, f.u)
		r := f.run(t, "newuidmap", append([]string{itoa(ours)}, c.args...)...)
		real := testutil.RunAs(t, f.u, append([]string{"/usr/bin/newuidmap", itoa(theirs)}, c.args...)...)
		got, want := file(t, ours, "uid_map"), file(t, theirs, "uid_map")
		switch {
		case c.refused || c.ours:
			if r.Code != 1 || got != "" || !strings.HasPrefix(r.Stderr, "newuidmap: invalid range '") {
				t.Errorf("newuidmap %q: %s\nuid_map %q; want refused", c.args, r, got)
			}
			if c.refused && (real.Code != 1 || want != "") {
				t.Errorf("shadow's newuidmap %q: %s\nuid_map %q; want refused", c.args, real, want)
			}
		case r.Code != 0 || real.Code != 0 || got != want || got == "":
			t.Errorf("newuidmap %q: ours %s\nuid_map %q\nshadow's %s\nuid_map %q", c.args, r, got, real, want)
		}
	}
}

// TestRefusedTarget: the target checks: a second write, a PID that went
// away, another owner (root's process; root against the user's process),
// fd:N that is not a /proc/PID directory.
func TestRefusedTarget(t *testing.T) {
	f := setup(t)
	own := []string{"-u", "0:" + f.uid + ":1"}
	want := func(t *testing.T, r testutil.Result, msg string) {
		t.Helper()
		if r.Code != 1 || r.Stdout != "" || r.Stderr != msg+"\n" {
			t.Errorf("got %s\nwant: %s", r, msg)
		}
	}

	t.Run("second write", func(t *testing.T) {
		pid := target(t, f.u)
		if r := f.run(t, "setuidmap", append(own, itoa(pid))...); r.Code != 0 {
			t.Fatal(r)
		}
		want(t, f.run(t, "setuidmap", append(own, itoa(pid))...), "setuidmap: write to uid_map failed: Operation not permitted")
		real := testutil.RunAs(t, f.u, "/usr/bin/newuidmap", itoa(pid), "0", f.uid, "1")
		want(t, real, "newuidmap: write to uid_map failed: Operation not permitted")
		want(t, f.run(t, "newuidmap", itoa(pid), "0", f.uid, "1"), "newuidmap: write to uid_map failed: Operation not permitted")
	})
	t.Run("pid went away", func(t *testing.T) {
		p := testutil.Start(t, testutil.Opts{User: f.u}, "sleep", "1000")
		pid := p.Pid()
		p.Stop()
		want(t, f.run(t, "setuidmap", append(own, itoa(pid))...),
			"setuidmap: could not open proc directory for target "+itoa(pid)+": No such file or directory")
	})
	t.Run("root's process", func(t *testing.T) {
		p := testutil.Start(t, testutil.Opts{}, "unshare", "-U", "sleep", "1000")
		pid := itoa(p.Pid())
		want(t, f.run(t, "setuidmap", append(own, pid)...), "setuidmap: target "+pid+" is owned by a different user: uid:"+
			f.uid+" st_uid:0, gid:"+f.gid+" st_gid:0")
		theirs := "newuidmap: Target process " + pid + " is owned by a different user: uid:" + f.uid + " pw_uid:" + f.uid +
			" st_uid:0, gid:" + f.gid + " pw_gid:" + f.gid + " st_gid:0"
		want(t, testutil.RunAs(t, f.u, "/usr/bin/newuidmap", pid, "0", f.uid, "1"), theirs)
		want(t, f.run(t, "newuidmap", pid, "0", f.uid, "1"), theirs)
	})
	t.Run("the user with another real gid", func(t *testing.T) {
		pid := itoa(target(t, f.u))
		want(t, testutil.Run(t, "setpriv", "--reuid", f.uid, "--regid", "65534", "--clear-groups",
			filepath.Join(f.dir, "setuidmap"), "-u", "0:"+f.uid+":1", pid),
			"setuidmap: target "+pid+" is owned by a different user: uid:"+f.uid+" st_uid:"+f.uid+", gid:65534 st_gid:"+f.gid)
	})
	t.Run("root against the user's process", func(t *testing.T) {
		pid := target(t, f.u)
		bin := testutil.Binary(t)
		want(t, testutil.Run(t, bin, "setuidmap", "-u", "0:0:1", itoa(pid)), "setuidmap: target "+itoa(pid)+
			" is owned by a different user: uid:0 st_uid:"+f.uid+", gid:0 st_gid:"+f.gid)
		real := testutil.Run(t, "/usr/bin/newuidmap", itoa(pid), "0", "0", "1")
		theirs := "newuidmap: Target process " + itoa(pid) + " is owned by a different user: uid:0 pw_uid:0 st_uid:" + f.uid +
			", gid:0 pw_gid:0 st_gid:" + f.gid
		want(t, real, theirs)
		want(t, testutil.Run(t, bin, "newuidmap", itoa(pid), "0", "0", "1"), theirs)
		// The documented exception, root only.
		want(t, f.run(t, "setuidmap", "--allow-root-target", "-u", "0:0:1", itoa(pid)),
			"setuidmap: --allow-root-target is for root only")
		if r := testutil.Run(t, bin, "setuidmap", "--allow-root-target", "-u", "0:"+f.uid+":1", itoa(pid)); r.Code != 0 {
			t.Errorf("--allow-root-target as root: %s", r)
		}
		if got := file(t, pid, "uid_map"); got != "0 "+f.uid+" 1" {
			t.Errorf("uid_map %q", got)
		}
	})
	t.Run("fd", func(t *testing.T) {
		pid := target(t, f.u)
		bad := filepath.Join(f.u.Home, "fake")
		if err := os.Mkdir(bad, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/etc/passwd", filepath.Join(bad, "uid_map")); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(f.u.Home, "proclink")
		if err := os.Symlink(fmt.Sprintf("/proc/%d", pid), link); err != nil {
			t.Fatal(err)
		}
		sm := filepath.Join(f.dir, "setuidmap")
		for _, c := range []struct{ open, msg string }{
			{bad, "setuidmap: fd:3 is not a /proc/PID directory"},           // a directory with a symlinked uid_map
			{"/etc/passwd", "setuidmap: fd:3 is not a /proc/PID directory"}, // not a directory
			{"/proc", "setuidmap: fd:3 is not a /proc/PID directory"},       // procfs, not a process
			{"/proc/self/fd", "setuidmap: fd:3 is not a /proc/PID directory"},
		} {
			want(t, testutil.RunAs(t, f.u, "sh", "-c", `exec 3<"$1"; shift; exec "$@"`, "sh", c.open, sm, "-u", "0:"+f.uid+":1", "fd:3"), c.msg)
		}
		want(t, f.run(t, "setuidmap", "-u", "0:"+f.uid+":1", "fd:9"), "setuidmap: fd:9: Bad file descriptor")
		if got := file(t, pid, "uid_map"); got != "" {
			t.Fatalf("uid_map %q", got)
		}
		// A real /proc/PID directory, even reached through a symlink, is fine.
		if r := testutil.RunAs(t, f.u, "sh", "-c", `exec 3<"$1"; shift; exec "$@"`, "sh", link, sm, "-u", "0:"+f.uid+":1", "fd:3"); r.Code != 0 {
			t.Fatal(r)
		}
		if got := file(t, pid, "uid_map"); got != "0 "+f.uid+" 1" {
			t.Errorf("uid_map %q", got)
		}
		if b, _ := os.ReadFile("/etc/passwd"); !strings.Contains(string(b), "root:") {
			t.Errorf("/etc/passwd damaged")
		}
	})
	t.Run("usage", func(t *testing.T) {
		r := f.run(t, "newuidmap")
		real := testutil.RunAs(t, f.u, "/usr/bin/newuidmap")
		// Debian's 4.13 has no fd:N; shadow 4.14's usage names it as ours does.
		if r.Code != 1 || real.Code != 1 || r.Stderr != strings.Replace(real.Stderr, "<pid>", "<pid|fd:<pidfd>>", 1) {
			t.Errorf("newuidmap usage: ours %s\nshadow's %s", r, real)
		}
		want(t, f.run(t, "setuidmap", "-u", "0:"+f.uid+":1"), "setuidmap: no target process specified\nTry 'setuidmap --help' for more information.")
		want(t, f.run(t, "setuidmap", "-u", "0:"+f.uid+":1", "12x"), "setuidmap: invalid target '12x': expected a PID or fd:N\nTry 'setuidmap --help' for more information.")
		want(t, f.run(t, "setuidmap", "1"), "setuidmap: nothing to map: give --uid, --gid or --rootless\nTry 'setuidmap --help' for more information.")
		want(t, f.run(t, "setuidmap", "--setgroups=allow", "-g", "auto", "1"), "setuidmap: unsupported --setgroups argument 'allow': only deny (setuidmap never writes allow)")
	})
}

// TestSetuidInstallGivesNoOtherPrivilege: the set-user-ID copy that makes
// setuidmap work gives unshare, nsenter and the multi-call options nothing
// the user does not have.
func TestSetuidInstallGivesNoOtherPrivilege(t *testing.T) {
	f := setup(t)
	t.Run("cgo", func(t *testing.T) { noOtherPrivilege(t, f) })
	t.Run("purego", func(t *testing.T) {
		g := *f
		g.dir = suidCopy(t, testutil.PureGoBinary(t))
		noOtherPrivilege(t, &g)
	})
}

func noOtherPrivilege(t *testing.T, f *fixture) {
	// Every other applet refuses before it does anything, saying which
	// nsbox to run (the internal stages would refuse too).
	for _, argv := range [][]string{
		{"unshare", "-n", "true"},
		{"nsbox", "unshare", "-m", "true"},
		{"nsenter", "-t", "1", "-n", "true"},
		{"unshare", "-U", "id", "-u"},
	} {
		name := argv[0]
		if name == "nsbox" {
			name = argv[1]
		}
		r := f.run(t, argv[0], argv[1:]...)
		if r.Code != 1 || r.Stdout != "" || r.Stderr != name+": this is a set-user-ID copy of nsbox: run the unprivileged nsbox for "+name+"\n" {
			t.Errorf("%v through the set-user-ID copy: %s", argv, r)
		}
	}
	// The multi-call options run as the caller.
	r := f.run(t, "nsbox", "--install", "/usr/local/sbin")
	if r.Code == 0 {
		t.Errorf("nsbox --install into a root directory through the set-user-ID copy: %s", r)
	}
}

// TestFileCapsInstall: setuidmap installed with file capabilities (the
// CGO_ENABLED=0 build, which can cut the capabilities of every thread)
// writes the rootless maps for an unprivileged user; the cgo build
// installed so refuses; other applets refuse to run with the capabilities.
func TestFileCapsInstall(t *testing.T) {
	f := setup(t)
	f.dir = capsCopy(t, testutil.PureGoBinary(t))
	pid := target(t, f.u)
	if r := f.run(t, "setuidmap", "--rootless", itoa(pid)); r.Code != 0 || r.Stderr != "" || r.Stdout != "" {
		t.Fatalf("setuidmap --rootless with file capabilities: %s", r)
	}
	if got := file(t, pid, "uid_map"); got != "0 "+f.uid+" 1\n1 "+f.sub+" 65536" {
		t.Errorf("uid_map %q", got)
	}
	if got := file(t, pid, "gid_map"); got != "0 "+f.gid+" 1\n1 "+f.subg+" 65536" {
		t.Errorf("gid_map %q", got)
	}
	// The checks hold as they do set-user-ID: another user's range.
	pid = target(t, f.u)
	if r := f.run(t, "setuidmap", "-u", "0:1:1", itoa(pid)); r.Code != 1 || !strings.Contains(r.Stderr, "not allowed") {
		t.Errorf("another user's id with file capabilities: %s", r)
	}
	if got := file(t, pid, "uid_map"); got != "" {
		t.Errorf("uid_map written after a refusal: %q", got)
	}
	for _, argv := range [][]string{{"unshare", "-n", "true"}, {"nsenter", "-t", "1", "-n", "true"}} {
		r := f.run(t, argv[0], argv[1:]...)
		if r.Code != 1 || r.Stderr != argv[0]+": refusing to run with file capabilities: only setuidmap and mkbridge may be installed privileged\n" {
			t.Errorf("%v with file capabilities: %s", argv, r)
		}
	}
	// The cgo build cannot drop them on its other threads: it refuses.
	g := *f
	g.dir = capsCopy(t, testutil.Binary(t))
	if r := g.run(t, "setuidmap", "--rootless", itoa(pid)); r.Code != 1 || !strings.Contains(r.Stderr, "cannot drop them on every thread") {
		t.Errorf("the cgo build with file capabilities: %s", r)
	}
	if got := file(t, pid, "uid_map"); got != "" {
		t.Errorf("uid_map written by the refusing cgo build: %q", got)
	}
}
