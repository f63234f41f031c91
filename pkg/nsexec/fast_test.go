package nsexec_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

// The C fast path (fast.c, fast_nsenter.c) must behave exactly as the Go
// applets do, and must really be taken. Each case runs twice: as is, and
// with _NSBOX_NOFAST=1 (the Go applet); stdout, stderr and the exit status
// must be the same. With GODEBUG=inittrace=1 a Go runtime start prints
// "init ..." lines: a case marked fast must print none, and the Go run
// must print them.

// probe prints, for each namespace type, whether the program is in the
// caller's namespace ("host", from the H_<type> variables) or another
// one, then its ids, maps, host name, the propagation of "/" and whether
// /proc shows few processes (a new pid namespace's) or many.
const probe = `for t in user cgroup ipc uts net pid mnt time; do
	eval h=\$H_$t
	[ "$(readlink /proc/self/ns/$t)" = "$h" ] && echo "$t host" || echo "$t new"
done
id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
hostname
grep -q ' / / .*shared:' /proc/self/mountinfo && echo root-shared || echo root-not-shared
n=$(ls /proc | grep -c '^[0-9]'); [ $n -lt 20 ] && echo "few processes" || echo "many processes"`

func hostNsEnv(t *testing.T) []string {
	t.Helper()
	var env []string
	for _, n := range []string{"user", "cgroup", "ipc", "uts", "net", "pid", "mnt", "time"} {
		l, err := os.Readlink("/proc/self/ns/" + n)
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, "H_"+n+"="+l)
	}
	return env
}

var procPID = regexp.MustCompile(`/proc/[0-9]+/`)

type fastCase struct {
	args []string // after the binary
	fast bool     // the fast path takes it (else both runs are the Go applet)
}

// compare runs c both ways as u (nil: root) and checks they agree.
func compare(t *testing.T, bin string, u *testutil.User, env []string, c fastCase) {
	t.Helper()
	compareWith(t, bin, testutil.Opts{User: u, Env: env}, c)
}

// compareWith is compare with the options o.
func compareWith(t *testing.T, bin string, o testutil.Opts, c fastCase) {
	t.Helper()
	fast, fastStarted := testutil.RunPath(t, o, false, append([]string{bin}, c.args...)...)
	slow, slowStarted := testutil.RunPath(t, o, true, append([]string{bin}, c.args...)...)
	testutil.CheckPath(t, fmt.Sprint(c.args), c.fast, fastStarted, slowStarted)
	// A PID in a message is the process's own: it differs between runs.
	fast.Stderr = procPID.ReplaceAllString(fast.Stderr, "/proc/PID/")
	slow.Stderr = procPID.ReplaceAllString(slow.Stderr, "/proc/PID/")
	if fast.Outcome() != slow.Outcome() {
		t.Errorf("%v: the fast path and the Go applet differ\n=== fast: %s\n=== Go: %s", c.args, fast.String(), slow.String())
	}
}

func TestFastUnshare(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	bin := testutil.Binary(t)
	env := hostNsEnv(t)
	sh := []string{"sh", "-c", probe}
	cases := []fastCase{
		{append([]string{"unshare", "-u"}, sh...), true},
		{append([]string{"unshare", "-uipnmC"}, sh...), true},
		{append([]string{"unshare", "--uts", "--ipc", "--net", "--mount", "--cgroup", "--"}, sh...), true},
		{append([]string{"unshare", "-r"}, sh...), true},
		{append([]string{"unshare", "-c", "-m"}, sh...), true},
		{append([]string{"unshare", "--map-root-user", "--user", "-T"}, sh...), true},
		{append([]string{"unshare", "-uipnmf"}, sh...), true},
		{append([]string{"unshare", "-fpr", "--mount-proc"}, sh...), true},
		{append([]string{"unshare", "-Ufp", "--mount-proc"}, sh...), true},
		{append([]string{"unshare", "--fork", "--pid", "--time"}, sh...), true},
		{append([]string{"unshare", "-p"}, sh...), true},
		{[]string{"unshare", "-f", "sh", "-c", "exit 7"}, true},
		{[]string{"unshare", "-f", "sh", "-c", "kill -TERM $$"}, true},
		{[]string{"unshare", "-f", "sh", "-c", "kill -KILL $$"}, true},
		{[]string{"unshare", "-u", "sh", "-c", "exit 3"}, true},
		{[]string{"unshare", "-u", "true"}, true},
		{[]string{"unshare", "true"}, true},
		// Left to Go: other options, abbreviations, values, no program,
		// a program that is not there, both maps.
		{append([]string{"unshare", "--ut"}, sh...), false},
		{append([]string{"unshare", "-f", "--net=/nonexistent/pin"}, sh...), false}, // pins with --fork
		{append([]string{"unshare", "--pid=/nonexistent/pin"}, sh...), false},
		{append([]string{"unshare", "--net=/nonexistent/pin", "-n"}, sh...), false}, // the last -n wins in Go
		{append([]string{"unshare", "--net="}, sh...), false},
		{append([]string{"unshare", "--mount-proc=/proc", "-fp"}, sh...), false},
		{append([]string{"unshare", "-u", "--hostname", "h"}, sh...), false},
		{[]string{"unshare", "-u", "/nonexistent/prog"}, true}, // not searched: exec fails after the unshare in both
		{[]string{"unshare", "-u", "nonexistent-prog"}, false},
		{[]string{"unshare", "-r", "-c", "id", "-u"}, false},
		{[]string{"unshare", "-x", "true"}, false},
		{[]string{"unshare", "-u"}, false},
		{[]string{"unshare", "-"}, false},
	}
	for _, c := range cases {
		compare(t, bin, nil, env, c)
	}
	// Pins (--TYPE=FILE without --fork): the same mounts both ways, and
	// the same rollback when one cannot be made.
	dir := t.TempDir()
	isPin := func(p string) bool {
		var st unix.Statfs_t
		return unix.Statfs(p, &st) == nil && st.Type == unix.NSFS_MAGIC
	}
	for _, c := range []struct {
		pins  []string // types pinned; "missing:TYPE" names a file that is not there
		code  int
		first string // the type of the failure named, by util-linux's order
	}{
		{[]string{"net"}, 0, ""},
		{[]string{"net", "uts", "ipc", "cgroup"}, 0, ""},
		{[]string{"user", "mount"}, 0, ""},
		{[]string{"net", "missing:uts"}, 1, "uts"},
		// Two that fail: util-linux binds user cgroup ipc uts net pid mnt
		// time, and names the first that fails, whatever the options'
		// order.
		{[]string{"missing:net", "missing:cgroup"}, 1, "cgroup"},
		{[]string{"missing:cgroup", "missing:net"}, 1, "cgroup"},
		{[]string{"missing:uts", "missing:ipc"}, 1, "ipc"},
		{[]string{"missing:net", "missing:user"}, 1, "user"},
	} {
		var outs []testutil.Result
		var started []bool
		for _, nofast := range []bool{false, true} {
			args := []string{bin, "unshare"}
			var files []string
			for _, p := range c.pins {
				name, missing := strings.CutPrefix(p, "missing:")
				f := filepath.Join(dir, name)
				if !missing {
					if err := os.WriteFile(f, nil, 0o644); err != nil {
						t.Fatal(err)
					}
					files = append(files, f)
				}
				if name == "user" {
					args = append(args, "-r")
				}
				args = append(args, "--"+name+"="+f)
			}
			r, s := testutil.RunPath(t, testutil.Opts{Env: env}, nofast, append(args, sh...)...)
			if r.Code != c.code || (c.first != "" && !strings.Contains(r.Stderr, "/ns/"+c.first+" on "+filepath.Join(dir, c.first)+" failed")) {
				t.Errorf("%v (nofast %v): %s", c.pins, nofast, r.String())
			}
			for _, f := range files {
				if isPin(f) != (c.code == 0) {
					t.Errorf("%v (nofast %v): %s pinned: %v", c.pins, nofast, f, isPin(f))
				}
				unix.Unmount(f, unix.MNT_DETACH)
				os.Remove(f)
			}
			r.Stderr = procPID.ReplaceAllString(r.Stderr, "/proc/PID/")
			outs, started = append(outs, r), append(started, s)
		}
		testutil.CheckPath(t, fmt.Sprint(c.pins), true, started[0], started[1])
		if outs[0].Outcome() != outs[1].Outcome() {
			t.Errorf("%v: the fast path and the Go applet differ\n=== fast: %s\n=== Go: %s", c.pins, outs[0].String(), outs[1].String())
		}
	}

	// Unprivileged: the same forms, and the ones refused.
	u := testutil.Unprivileged(t)
	for _, c := range []fastCase{
		{append([]string{"unshare", "-r"}, sh...), true},
		{append([]string{"unshare", "-rm", "--mount-proc", "-fp"}, sh...), true},
		{append([]string{"unshare", "-c", "-uin"}, sh...), true},
		{append([]string{"unshare", "-U"}, sh...), true},
		{[]string{"unshare", "-u", "true"}, true},        // EPERM, reported in the same words
		{[]string{"unshare", "-f", "-n", "true"}, false}, // the same with --fork
	} {
		compare(t, bin, u, env, c)
	}
}

// children lists the children of pid.
func children(t *testing.T, pid int) []int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

func TestFastNsenter(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	bin := testutil.Binary(t)
	env := hostNsEnv(t)
	u := testutil.Unprivileged(t)

	// A root container with a pid namespace (the target is the child of
	// unshare -f), and a rootless one without.
	root := testutil.Start(t, testutil.Opts{}, bin, "unshare", "-uipnmCf", "--mount-proc", "sleep", "1000")
	defer root.Stop()
	var tpid int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if c := children(t, root.Pid()); len(c) == 1 {
			if testutil.ExecComm(c[0]) == "sleep" {
				tpid = c[0]
				break
			}
		}
	}
	if tpid == 0 {
		t.Fatal("the root container did not start")
	}
	rootless := testutil.Start(t, testutil.Opts{User: u}, bin, "unshare", "-r", "-uin", "sleep", "1000").WaitExec(t, "sleep", 10*time.Second)
	defer rootless.Stop()
	rpid := strconv.Itoa(rootless.Pid())
	p := strconv.Itoa(tpid)

	// Pins of the root container's net and uts namespaces, for the
	// --TYPE=FILE forms.
	dir := t.TempDir()
	netPin, utsPin := filepath.Join(dir, "net"), filepath.Join(dir, "uts")
	for _, f := range []struct{ typ, path string }{{"net", netPin}, {"uts", utsPin}} {
		if err := os.WriteFile(f.path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("/proc/"+p+"/ns/"+f.typ, f.path, "", unix.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
		defer unix.Unmount(f.path, unix.MNT_DETACH)
	}

	// A pin named ":1" (what --net=:1 would name, were it a file), and
	// the inode of the target's pidfd (-t PID:INODE).
	colonDir := t.TempDir()
	if err := os.WriteFile(colonDir+"/:1", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(netPin, colonDir+"/:1", "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(colonDir+"/:1", unix.MNT_DETACH)
	pidfd, err := unix.PidfdOpen(tpid, 0)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	unix.Fstat(pidfd, &st)
	unix.Close(pidfd)
	ino := strconv.FormatUint(st.Ino, 10)

	sh := []string{"sh", "-c", probe}
	for _, c := range []fastCase{
		{append([]string{"nsenter", "--net=" + netPin}, sh...), true},
		{append([]string{"nsenter", "--net=" + netPin, "--uts=" + utsPin, "-t", p, "-i"}, sh...), true},
		{append([]string{"nsenter", "-n" + netPin, "-a", "-t", p}, sh...), true},
		{append([]string{"nsenter", "-t", p, "-p", "--mount=/proc/" + p + "/ns/mnt"}, sh...), true},
		{[]string{"nsenter", "--net=/etc/hostname", "true"}, false}, // not a namespace file: the Go applet refuses it
		{[]string{"nsenter", "--net=/nonexistent", "true"}, false},
		{[]string{"nsenter", "--net=" + netPin, "-n", "true"}, false}, // the last -n wins: no file, no target
		{[]string{"nsenter", "--net=", "true"}, false},
		{append([]string{"nsenter", "-t", p, "-a"}, sh...), true},
		{append([]string{"nsenter", "--target", p, "--all", "--"}, sh...), true},
		{append([]string{"nsenter", "--target=" + p, "-n", "-u"}, sh...), true},
		{append([]string{"nsenter", "-at" + p}, sh...), true},
		{append([]string{"nsenter", "-t", p, "-a", "-F"}, sh...), true},
		{append([]string{"nsenter", "-t", p, "-p", "-m"}, sh...), true},
		{append([]string{"nsenter", "-t", rpid, "-a"}, sh...), true},
		{append([]string{"nsenter", "-t", rpid, "-U", "--preserve-credentials", "-n"}, sh...), true},
		{[]string{"nsenter", "-t", p, "-a", "sh", "-c", "exit 5"}, true},
		{[]string{"nsenter", "-t", p, "-a", "sh", "-c", "kill -TERM $$"}, true},
		{[]string{"nsenter", "-t", p, "-a", "nonexistent-prog"}, true}, // found only after entering
		// Left to Go.
		{append([]string{"nsenter", "-t", p, "-mu"}, sh...), false}, // -m with the file "u", which is not there
		{append([]string{"nsenter", "-t", p, "-a", "-r"}, sh...), false},
		{append([]string{"nsenter", "--tar", p, "-a"}, sh...), false},
		{[]string{"nsenter", "-t", p, "-a"}, false},
		{[]string{"nsenter", "-t", "0", "-a", "true"}, false},
		{[]string{"nsenter", "-t", "abc", "-a", "true"}, false},
		{[]string{"nsenter", "-t", "2147483647", "-a", "true"}, false},
		{[]string{"nsenter", "-t", p, "true"}, false},
		{[]string{"nsenter", "-t", "1", "-U", "true"}, false}, // own user namespace: EINVAL, from Go
		// util-linux 2.43's forms, and --netns: the Go applet's.
		{append([]string{"nsenter", "-t", p + ":" + ino, "-a"}, sh...), false},
		{append([]string{"nsenter", "--target=" + p + ":" + ino, "-n", "-u"}, sh...), false},
		{append([]string{"nsenter", "-t" + p + ":1", "-u"}, sh...), false},
		{append([]string{"nsenter", "-t", p, "-t", p, "-a"}, sh...), false},
		{append([]string{"nsenter", "--target", p, "--target=" + p, "-u"}, sh...), false},
		{append([]string{"nsenter", "-at" + p, "-t" + p}, sh...), false},
		{append([]string{"nsenter", "--netns", netPin}, sh...), false},
		{append([]string{"nsenter", "-t", p, "-u", "--netns=" + netPin}, sh...), false},
	} {
		compare(t, bin, nil, env, c)
	}
	// :1 is a namespace id, not the file ":1" in the working directory.
	for _, c := range []fastCase{
		{append([]string{"nsenter", "--net=:1", "-t", p, "-u"}, sh...), false},
		{append([]string{"nsenter", "-n:1"}, sh...), false},
		{append([]string{"nsenter", "--net=./:1"}, sh...), true},
	} {
		compareWith(t, bin, testutil.Opts{Env: env, Dir: colonDir}, c)
	}
	// (-a as the user would include the mount namespace of testutil's
	// helper, which the user cannot enter: refused by Go, as checked.)
	for _, c := range []fastCase{
		{append([]string{"nsenter", "-t", rpid, "-U", "-i", "-u", "-n"}, sh...), true},
		{append([]string{"nsenter", "-t", rpid, "-U", "-u"}, sh...), true},
		{append([]string{"nsenter", "-t", rpid, "-a"}, sh...), false},
		{[]string{"nsenter", "-t", p, "-a", "true"}, false}, // not the user's: refused by Go
		{[]string{"nsenter", "-t", p, "-n", "true"}, false},
	} {
		compare(t, bin, u, env, c)
	}
}
