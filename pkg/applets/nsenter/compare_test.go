package nsenter_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/internal/testutil"
)

// This file runs util-linux nsenter (the system's 2.38) and both nsbox
// builds side by side on the same targets and compares stdout, stderr and
// how each ended; then nsbox alone through bad input. Where nsbox
// deliberately differs from 2.38 (2.43's messages, options 2.38 lacks,
// -a skipping), the case says why and asserts nsbox's behaviour alone.

// impl is one nsenter implementation: the argv prefix that runs it.
type impl struct {
	name string
	argv []string
	cgo  bool
}

func (i impl) cmd(args ...string) []string {
	return append(append([]string(nil), i.argv...), args...)
}

// cmpWant is an expected end: stdout, stderr, exit code and signal.
type cmpWant = testutil.Outcome

func wantOf(r testutil.Result) cmpWant { return r.Outcome() }

type cmpCase struct {
	name string
	// args after "nsenter": $R is the root container's PID, $L the
	// rootless one's, $F the full one's (every namespace type), $P the pin
	// directory, $D the scratch directory, $SELF the test process.
	args []string
	// unpriv: run as the unprivileged test user too.
	unpriv bool
	// stdoutDiffers: why stdout is not compared (check looks at it).
	stdoutDiffers string
	check         func(t *testing.T, r testutil.Result)
	// userTime: the case enters a user or time namespace, which the
	// pure-Go build refuses with its message.
	userTime bool
	// want is nsbox's own expected end where it deliberately differs from
	// 2.38 (why says how; $R and the like in its stderr are replaced as in
	// args); util-linux is not compared.
	want *cmpWant
	why  string
}

// cmpTargets are the namespaces the comparison enters.
type cmpTargets struct {
	root, rootless, full int
	pins, dir            string
}

func (c cmpTargets) subst(args []string) []string {
	r := strings.NewReplacer("$R", strconv.Itoa(c.root), "$L", strconv.Itoa(c.rootless), "$F", strconv.Itoa(c.full),
		"$P", c.pins, "$D", c.dir, "$SELF", strconv.Itoa(os.Getpid()))
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = r.Replace(a)
	}
	return out
}

// makeCmpTargets starts the containers and pins every comparison uses.
func makeCmpTargets(t *testing.T, u *testutil.User) cmpTargets {
	t.Helper()
	var c cmpTargets
	c.dir = sharedDir(t)
	c.root = rootTarget(t, c.dir)
	c.rootless = startTarget(t, testutil.Opts{User: u}, []string{"-r", "-n", "-u", "-i"}, "hostname rl")
	c.full = fullTarget(t)
	c.pins = pinDir(t)
	pinAll(t, c.pins)
	// A pid namespace whose only process has exited, and a file that was
	// a pin (A9).
	ul := testutil.HaveUtilLinux(t, "unshare")
	for _, f := range []string{"deadpid", "unpinned"} {
		if err := os.WriteFile(filepath.Join(c.pins, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r := testutil.Run(t, ul, "--pid="+c.pins+"/deadpid", "--fork", "true"); r.Code != 0 {
		t.Fatalf("%v", r)
	}
	if r := testutil.Run(t, ul, "--net="+c.pins+"/unpinned", "true"); r.Code != 0 {
		t.Fatalf("%v", r)
	}
	if r := testutil.Run(t, "umount", c.pins+"/unpinned"); r.Code != 0 {
		t.Fatalf("%v", r)
	}
	return c
}

func uptimeAtLeast(min float64) func(t *testing.T, r testutil.Result) {
	return func(t *testing.T, r testutil.Result) {
		t.Helper()
		if r.Code == 0 {
			if up := testutil.Uptime(t, r.Stdout); up < min {
				t.Errorf("uptime %v, want at least %v", up, min)
			}
		}
	}
}

// TestCompareUtilLinux runs each case through util-linux nsenter and both
// nsbox builds, as root and (where marked) as the unprivileged test user.
func TestCompareUtilLinux(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	testutil.HaveUtilLinux(t, "nsenter")
	// glibc's getopt messages start with argv[0] as given: run util-linux
	// by name, as nsbox's applet is named.
	ul := impl{"util-linux", []string{"nsenter"}, true}
	var bins []impl
	for _, b := range allBuilds(t) {
		bins = append(bins, impl{b.name, []string{b.bin, "nsenter"}, b.cgo})
	}
	u := testutil.Unprivileged(t)
	tg := makeCmpTargets(t, u)

	all := readlinkNs(allTypes...)
	cases := []cmpCase{
		// One namespace at a time, the root container.
		{name: "-u hostname", args: []string{"-t", "$R", "-u", "hostname"}},
		{name: "--uts hostname", args: []string{"--target=$R", "--uts", "hostname"}},
		{name: "--target --uts", args: []string{"--target", "$R", "--uts", "hostname"}},
		{name: "-n ip link", args: []string{"-t", "$R", "-n", "ip", "-o", "link"}},
		{name: "-i ipcs", args: []string{"-t", "$R", "-i", "ipcs", "-q"}},
		{name: "-m ls (A6)", args: []string{"-t", "$R", "-m", "ls", "$D/d"}},
		{name: "-p -m ps (A7)", args: []string{"-t", "$R", "-p", "-m", "ps", "-e", "-o", "comm="}},
		{name: "-p readlink", args: []string{"-t", "$R", "-p", "readlink", "/proc/self/ns/pid"}},
		{name: "-p -F", args: []string{"-t", "$R", "-p", "-F", "sh", "-c", "readlink /proc/$$/ns/pid /proc/$$/ns/pid_for_children"}},
		{name: "-p small pid", args: []string{"-t", "$R", "-p", "sh", "-c", "echo $$"}, stdoutDiffers: "the pid grows from run to run",
			check: func(t *testing.T, r testutil.Result) {
				if n, _ := strconv.Atoi(strings.TrimSpace(r.Stdout)); n < 2 || n > 1000 {
					t.Errorf("pid %q: not in the target's pid namespace", r.Stdout)
				}
			}},
		{name: "-C cgroup", args: []string{"-t", "$R", "-C", "cat", "/proc/self/cgroup"}},
		{name: "-m -u -i -n -p -C", args: []string{"-t", "$R", "-m", "-u", "-i", "-n", "-p", "-C", "sh", "-c", "hostname; ls; pwd"}},
		{name: "-a", args: []string{"-t", "$R", "-a", "sh", "-c", all + "; hostname; pwd"}},
		{name: "--all", args: []string{"--all", "--target", "$R", "sh", "-c", all}},
		// Nothing left to enter: the program runs all the same.
		{name: "-a on oneself", args: []string{"-t", "$SELF", "-a", "echo", "ok"}},
		{name: "-a -p on oneself", args: []string{"-t", "$SELF", "-a", "-p", "sh", "-c", "exit 3"}},
		{name: "-a -w", args: []string{"-t", "$R", "-a", "-w", "sh", "-c", "pwd; ls"}},
		// -r, -w, -W.
		{name: "-m -w", args: []string{"-t", "$R", "-m", "-w", "pwd"}},
		{name: "-m -r -w", args: []string{"-t", "$R", "-m", "-r", "-w", "pwd"}},
		{name: "-m -r", args: []string{"-t", "$R", "-m", "-r", "pwd"}},
		{name: "-m -w/proc", args: []string{"-t", "$R", "-m", "-w/proc", "pwd"}},
		{name: "-m --wd=/proc", args: []string{"-t", "$R", "-m", "--wd=/proc", "pwd"}},
		{name: "-m -W /proc", args: []string{"-t", "$R", "-m", "-W", "/proc", "pwd"}},
		{name: "-m -W dir", args: []string{"-t", "$R", "-m", "-W", "$D/d", "ls"}},
		{name: "-m -r -W", args: []string{"-t", "$R", "-m", "-r", "-W", "/proc", "pwd"}},
		{name: "-u -r/usr keeps the cwd", args: []string{"-t", "$R", "-u", "-r/usr", "pwd"}},
		{name: "-u -r/usr -w/usr/lib", args: []string{"-t", "$R", "-u", "-r/usr", "-w/usr/lib", "sh", "-c", "pwd; ls -d /bin"}},
		{name: "-W missing", args: []string{"-t", "$R", "-m", "-W", "/nonexistent", "pwd"}},
		{name: "-W a file", args: []string{"-t", "$R", "-m", "-W", "/etc/passwd", "pwd"}},
		{name: "-r missing", args: []string{"-t", "$R", "-m", "-r/nonexistent", "pwd"}},
		{name: "-w missing", args: []string{"-t", "$R", "-m", "-w/nonexistent", "pwd"}},
		{name: "-w -W", args: []string{"-t", "$R", "-m", "-w", "-W", "/", "pwd"}},
		{name: "-W -w", args: []string{"-t", "$R", "-m", "-W", "/", "-w", "pwd"}},
		// Credentials.
		{name: "-S -G", args: []string{"-t", "$R", "-u", "-S", "1", "-G", "2", "id"}},
		{name: "-S", args: []string{"-t", "$R", "-u", "--setuid=1", "id"}},
		{name: "-G", args: []string{"-t", "$R", "-u", "--setgid", "2", "id"}},
		{name: "-p -S -G", args: []string{"-t", "$R", "-p", "-S", "1", "-G", "2", "id"}},
		{name: "-Z", args: []string{"-t", "$R", "-u", "-Z", "hostname"}},
		// Exit status, signals, exec failures (A15, A16).
		{name: "-p exit 9", args: []string{"-t", "$R", "-p", "sh", "-c", "exit 9"}},
		{name: "-u exit 9", args: []string{"-t", "$R", "-u", "sh", "-c", "exit 9"}},
		{name: "-p -F exit 9", args: []string{"-t", "$R", "-p", "-F", "sh", "-c", "exit 9"}},
		{name: "-t self -p exit 9 (A16)", args: []string{"-t", "$SELF", "-p", "sh", "-c", "exit 9"}},
		{name: "-p SIGTERM", args: []string{"-t", "$R", "-p", "sh", "-c", "kill -TERM $$"}},
		{name: "-p SIGKILL", args: []string{"-t", "$R", "-p", "sh", "-c", "kill -KILL $$"}},
		{name: "-p SIGINT", args: []string{"-t", "$R", "-p", "sh", "-c", "kill -INT $$"}},
		{name: "-u SIGTERM", args: []string{"-t", "$R", "-u", "sh", "-c", "kill -TERM $$"}},
		{name: "exec not found (A15)", args: []string{"-t", "$R", "-u", "/nonexistent-cmd"}},
		{name: "exec not found in PATH", args: []string{"-t", "$R", "-u", "nonexistent-cmd"}},
		{name: "-p exec not found", args: []string{"-t", "$R", "-p", "/nonexistent-cmd"}},
		{name: "exec not executable", args: []string{"-t", "$R", "-u", "/etc/passwd"}},
		{name: "-p exec not executable", args: []string{"-t", "$R", "-p", "/etc/passwd"}},
		{name: "exec a directory", args: []string{"-t", "$R", "-u", "/tmp"}},
		// The rootless container, entered by root: user namespace last.
		{name: "root -U -n -u", args: []string{"-t", "$L", "-U", "-n", "-u", "sh", "-c", "id; hostname"}, userTime: true},
		{name: "root -a rootless", args: []string{"-t", "$L", "-a", "sh", "-c", "id; hostname; " + readlinkNs("user", "net", "uts", "ipc", "mnt")}, userTime: true},
		{name: "root -U -m (user last)", args: []string{"-t", "$L", "-U", "-m", "readlink", "/proc/self/ns/mnt"}, userTime: true},
		{name: "root -U --preserve-credentials", args: []string{"-t", "$L", "-U", "--preserve-credentials", "id"}, userTime: true},
		{name: "root -U -S 1", args: []string{"-t", "$L", "-U", "-S", "1", "id"}, userTime: true},
		{name: "root -U -G 1", args: []string{"-t", "$L", "-U", "-G", "1", "id"}, userTime: true},
		// Every namespace type.
		{name: "-a full", args: []string{"-t", "$F", "-a", "sh", "-c", all + "; hostname; id -u"}, userTime: true},
		{name: "-T uptime", args: []string{"-t", "$F", "-T", "cat", "/proc/uptime"}, userTime: true,
			stdoutDiffers: "the uptime moves on", check: uptimeAtLeast(100000)},
		{name: "-U -p exit 9", args: []string{"-t", "$F", "-U", "-p", "sh", "-c", "exit 9"}, userTime: true},
		{name: "-U -p SIGTERM", args: []string{"-t", "$F", "-U", "-p", "sh", "-c", "kill -TERM $$"}, userTime: true},
		{name: "-U exec not found", args: []string{"-t", "$F", "-U", "/nonexistent-cmd"}, userTime: true},
		{name: "-U -p exec not found", args: []string{"-t", "$F", "-U", "-p", "/nonexistent-cmd"}, userTime: true},
		// Pinned files (A8, A9).
		{name: "--net=FILE (A8)", args: []string{"--net=$P/net", "ip", "-o", "link"}},
		{name: "-nFILE", args: []string{"-n$P/net", "ip", "-o", "link"}},
		{name: "--uts=FILE", args: []string{"--uts=$P/uts", "hostname"}},
		{name: "-uFILE", args: []string{"-u$P/uts", "hostname"}},
		{name: "--ipc=FILE", args: []string{"--ipc=$P/ipc", "readlink", "/proc/self/ns/ipc"}},
		{name: "--cgroup=FILE", args: []string{"--cgroup=$P/cgroup", "cat", "/proc/self/cgroup"}},
		{name: "--mount=FILE", args: []string{"--mount=$P/mnt", "readlink", "/proc/self/ns/mnt"}},
		{name: "--user=FILE", args: []string{"--user=$P/user", "id"}, userTime: true},
		{name: "--user=FILE --preserve-credentials", args: []string{"--user=$P/user", "--preserve-credentials", "id"}, userTime: true},
		{name: "--time=FILE", args: []string{"--time=$P/time", "cat", "/proc/uptime"}, userTime: true,
			stdoutDiffers: "the uptime moves on", check: uptimeAtLeast(100000)},
		{name: "all files", args: []string{"--user=$P/user", "--mount=$P/mnt", "--uts=$P/uts", "--ipc=$P/ipc", "--net=$P/net", "--cgroup=$P/cgroup",
			"--time=$P/time", "sh", "-c", "hostname; id -u; " + readlinkNs("user", "mnt", "uts", "ipc", "net", "cgroup")}, userTime: true},
		{name: "unmounted pin (A9)", args: []string{"--net=$P/unpinned", "true"}},
		{name: "not a namespace", args: []string{"--net=/etc/passwd", "true"}},
		{name: "wrong type", args: []string{"--uts=$P/net", "true"}},
		{name: "missing file", args: []string{"--net=/nonexistent", "true"}},
		{name: "dead pid namespace", args: []string{"--pid=$P/deadpid", "true"}},
		{name: "dead pid namespace -U", args: []string{"--user=$P/user", "--pid=$P/deadpid", "true"}, userTime: true},
		{name: "-a with a file", args: []string{"-t", "$R", "-a", "--uts=$P/uts", "hostname"}},
		// Bad input that 2.38 handles as 2.43 does (A14, A18).
		{name: "--bogus", args: []string{"--bogus"}, unpriv: true},
		{name: "-X", args: []string{"-X"}},
		{name: "-t missing", args: []string{"-t"}},
		{name: "--target missing", args: []string{"--target"}},
		{name: "-S abc", args: []string{"-t", "$R", "-u", "-S", "abc", "true"}},
		{name: "-G abc", args: []string{"-t", "$R", "-u", "-G", "abc", "true"}},
		{name: "-u without target (A18)", args: []string{"-u", "true"}, unpriv: true},
		{name: "-a without target", args: []string{"-a", "true"}},
		{name: "vanished pid (A18)", args: []string{"-t", "4194305", "-u", "true"}},
		{name: "vanished pid -n -u", args: []string{"-t", "4194305", "-n", "-u", "true"}},
		{name: "vanished pid -a", args: []string{"-t", "4194305", "-a", "true"}},
		{name: "vanished pid -r", args: []string{"-t", "4194305", "-r", "true"}},
		{name: "--help", args: []string{"--help"}, stdoutDiffers: "nsbox lists --dir and 2.39+ options",
			check: func(t *testing.T, r testutil.Result) {
				if !strings.HasPrefix(r.Stdout, "\nUsage:\n nsenter [options] [<program> [<argument>...]]\n\nRun a program with namespaces of other processes.\n") {
					t.Errorf("usage starts %q", r.Stdout[:min(len(r.Stdout), 120)])
				}
			}},
		// The unprivileged caller and root's namespaces.
		{name: "root's namespace", args: []string{"-t", "$R", "-u", "true"}, unpriv: true},
		{name: "root's -a", args: []string{"-t", "$R", "-a", "true"}, unpriv: true},
		{name: "root's pin", args: []string{"--net=$P/net", "true"}, unpriv: true},

		// Where nsbox deliberately differs from 2.38.
		{name: "no namespace (A18)", args: []string{"true"}, unpriv: true,
			want: &cmpWant{Err: "nsenter: no namespace specified\n", Code: 1}, why: "2.41+: 2.38 runs the program"},
		{name: "-t 0", args: []string{"-t", "0", "-u", "true"},
			want: &cmpWant{Err: "nsenter: failed to parse PID argument '0': Numerical result out of range\n", Code: 1}, why: "2.43's message"},
		{name: "-t abc", args: []string{"-t", "abc", "-u", "true"},
			want: &cmpWant{Err: "nsenter: failed to parse PID argument 'abc': Invalid argument\n", Code: 1}, why: "2.43's message"},
		{name: "-t too big", args: []string{"-t", "99999999999", "-u", "true"},
			want: &cmpWant{Err: "nsenter: failed to parse PID argument '99999999999': Numerical result out of range\n", Code: 1}, why: "2.43's message; 2.38 truncates"},
		{name: "-t -1", args: []string{"-t", "-1", "-u", "true"},
			want: &cmpWant{Err: "nsenter: failed to parse PID argument '-1': Numerical result out of range\n", Code: 1}, why: "2.43's message; 2.38 takes 4294967295"},
		{name: "-r without a namespace", args: []string{"-t", "$R", "-r/usr", "pwd"},
			want: &cmpWant{Err: "nsenter: no namespace specified\n", Code: 1}, why: "2.41+: 2.38 runs the program"},
		{name: "-w without a namespace", args: []string{"-t", "$R", "-w", "pwd"},
			want: &cmpWant{Err: "nsenter: no namespace specified\n", Code: 1}, why: "2.41+: 2.38 runs the program"},
		{name: "-r -w without a namespace", args: []string{"-t", "$R", "-r", "-w", "pwd"},
			want: &cmpWant{Err: "nsenter: no namespace specified\n", Code: 1}, why: "2.41+: 2.38 runs the program"},
		{name: "--target twice", args: []string{"-t", "$R", "--target=$R", "-u", "hostname"},
			want: &cmpWant{Err: "nsenter: option --target may be given only once\n", Code: 1}, why: "2.43: 2.38 takes the last"},
		{name: "-t PID:abc", args: []string{"-t", "$R:abc", "-u", "hostname"}, unpriv: true,
			want: &cmpWant{Err: "nsenter: failed to parse PID argument '$R:abc': Invalid argument\n", Code: 1}, why: "2.43's PID:INODE"},
		{name: "--net=:x", args: []string{"--net=:x", "true"}, unpriv: true,
			want: &cmpWant{Err: "nsenter: failed to parse nsid: x\n", Code: 1}, why: "2.43's :NSID"},
		{name: "-V", args: []string{"-V"}, want: &cmpWant{}, why: "nsbox's version", stdoutDiffers: "the version",
			check: func(t *testing.T, r testutil.Result) {
				if !regexp.MustCompile(`^nsenter from (nsbox|util-linux) \S+\n$`).MatchString(r.Stdout) {
					t.Errorf("version %q", r.Stdout)
				}
			}},
		{name: "-e", args: []string{"-t", "$R", "-u", "-e", "sh", "-c", `echo "${NSBOX_CALLER:-unset}"`},
			want: &cmpWant{Out: "unset\n"}, why: "2.39+ option (the caller's variable is not the target's)"},
		{name: "-S follow", args: []string{"-t", "$L", "-u", "-S", "follow", "-G", "follow", "sh", "-c", "id -u; id -g"},
			want: &cmpWant{Out: fmt.Sprintf("%d\n%d\n", u.UID, u.GID)}, why: "2.39+ option"},
		{name: "-c", args: []string{"-t", "$R", "-u", "-c", "true"},
			want: &cmpWant{}, why: "2.40+ option"},
		{name: "-N", args: []string{"-t", "$R", "-N", "0", "true"},
			want: &cmpWant{Err: "nsenter: ioctl(SIOCGSKNS) failed: Inappropriate ioctl for device\n", Code: 1}, why: "2.41+ option; nsbox's message"},
		{name: "-U -S follow", args: []string{"-t", "$L", "-U", "-S", "follow", "-G", "follow", "sh", "-c", "id -u; id -g"}, userTime: true,
			want: &cmpWant{Out: "0\n0\n"}, why: "2.39+ option: the target's ids as its user namespace sees them"},
		{name: "--keep-caps", args: []string{"-t", "$F", "-U", "--keep-caps", "grep", "CapAmb", "/proc/self/status"}, userTime: true,
			want: &cmpWant{Out: "CapAmb:\t000001ffffffffff\n"}, why: "2.40+ option"},
	}
	for _, c := range cases {
		users := []*testutil.User{nil}
		if c.unpriv {
			users = append(users, u)
		}
		for _, as := range users {
			name := c.name
			if as != nil {
				name += " (unprivileged)"
			}
			t.Run(name, func(t *testing.T) {
				testutil.CheckNoLeaks(t)
				args := tg.subst(c.args)
				run := func(t *testing.T, i impl) testutil.Result {
					t.Helper()
					r := testutil.RunWith(t, testutil.Opts{User: as, Env: []string{"NSBOX_CALLER=caller"}}, i.cmd(args...)...)
					if c.check != nil {
						c.check(t, r)
					}
					return r
				}
				var ref cmpWant
				if c.want != nil {
					ref = *c.want
					ref.Err = tg.subst([]string{ref.Err})[0]
				} else {
					ref = wantOf(run(t, ul))
				}
				if c.stdoutDiffers != "" {
					ref.Out = ""
				}
				for _, b := range bins {
					t.Run(b.name, func(t *testing.T) {
						want := ref
						what := "util-linux"
						if c.want != nil {
							what = "nsbox's own: " + c.why
						}
						if c.userTime && !b.cgo {
							want, what = cmpWant{Err: needsCgo, Code: 1}, "the pure-Go build's refusal"
						}
						got := wantOf(run(t, b))
						if c.stdoutDiffers != "" {
							got.Out = ""
						}
						if got != want {
							t.Errorf("nsenter %s\n=== want (%s):\n%v\n=== got (%s):\n%v", strings.Join(args, " "), what, want, b.name, got)
						}
					})
				}
			})
		}
	}
}

// TestUtilLinuxDiffers records, against util-linux 2.38 itself, the cases
// where nsbox deliberately differs (docs/nsenter.md, DIFFERENCES), so that
// a change of the reference shows.
func TestUtilLinuxDiffers(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	testutil.HaveUtilLinux(t, "nsenter")
	if r := testutil.Run(t, "nsenter", "--version"); !strings.Contains(r.Stdout, "2.38") {
		t.Skipf("the reference is not util-linux 2.38: %s", r.Stdout)
	}
	self := strconv.Itoa(os.Getpid())
	for _, c := range []struct {
		args []string
		want cmpWant
	}{
		{[]string{"true"}, cmpWant{}},
		{[]string{"-t", "0", "-u", "true"}, cmpWant{Err: "nsenter: neither filename nor target pid supplied for ns/uts\n", Code: 1}},
		{[]string{"-t", "abc", "-u", "true"}, cmpWant{Err: "nsenter: failed to parse pid: 'abc'\n", Code: 1}},
		{[]string{"-t", "1", "-e", "true"}, cmpWant{Err: "nsenter: invalid option -- 'e'\nTry 'nsenter --help' for more information.\n", Code: 1}},
		{[]string{"-N", "3", "true"}, cmpWant{Err: "nsenter: invalid option -- 'N'\nTry 'nsenter --help' for more information.\n", Code: 1}},
		{[]string{"-c", "true"}, cmpWant{Err: "nsenter: invalid option -- 'c'\nTry 'nsenter --help' for more information.\n", Code: 1}},
		{[]string{"--keep-caps", "true"}, cmpWant{Err: "nsenter: unrecognized option '--keep-caps'\nTry 'nsenter --help' for more information.\n", Code: 1}},
		{[]string{"--user-parent", "true"}, cmpWant{Err: "nsenter: unrecognized option '--user-parent'\nTry 'nsenter --help' for more information.\n", Code: 1}},
		{[]string{"-t", self, "-r/", "true"}, cmpWant{}},
		{[]string{"-t", self, "-t", self, "-u", "true"}, cmpWant{}},
		{[]string{"-t", "1:5", "-u", "true"}, cmpWant{Err: "nsenter: failed to parse pid: '1:5'\n", Code: 1}},
		{[]string{"--net=:1", "true"}, cmpWant{Err: "nsenter: cannot open :1: No such file or directory\n", Code: 1}},
	} {
		if got := wantOf(testutil.Run(t, append([]string{"nsenter"}, c.args...)...)); got != c.want {
			t.Errorf("nsenter %s: util-linux changed:\n=== want\n%v\n=== got\n%v", strings.Join(c.args, " "), c.want, got)
		}
	}
}

// TestBadInput: inputs nsbox must refuse, both builds: exact stderr,
// stdout and exit code.
func TestBadInput(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	dir := t.TempDir()
	target := strconv.Itoa(rootTarget(t, dir))
	try := "\nTry 'nsenter --help' for more information.\n"
	cases := []struct {
		name string
		args []string // "$T": the target's PID
		sh   string   // or a script, with $BIN and $T
		out  *regexp.Regexp
		err  string
		code int
	}{
		{name: "-t 0", args: []string{"-t", "0", "-u", "true"}, err: "nsenter: failed to parse PID argument '0': Numerical result out of range\n", code: 1},
		{name: "-t abc", args: []string{"-t", "abc", "-u", "true"}, err: "nsenter: failed to parse PID argument 'abc': Invalid argument\n", code: 1},
		{name: "-t empty", args: []string{"-t", "", "-u", "true"}, err: "nsenter: failed to parse PID argument '': Invalid argument\n", code: 1},
		{name: "-t 12x", args: []string{"-t", "12x", "-u", "true"}, err: "nsenter: failed to parse PID argument '12x': Invalid argument\n", code: 1},
		{name: "-t 2^31", args: []string{"-t", "2147483648", "-u", "true"}, err: "nsenter: failed to parse PID argument '2147483648': Numerical result out of range\n", code: 1},
		{name: "vanished pid", args: []string{"-t", "4194305", "-u", "true"}, err: "nsenter: cannot open /proc/4194305/ns/uts: No such file or directory\n", code: 1},
		{name: "vanished pid -a", args: []string{"-t", "4194305", "-a", "true"}, err: "nsenter: stat of /proc/4194305/ns/user failed: No such file or directory\n", code: 1},
		{name: "vanished pid -w", args: []string{"-t", "4194305", "-w", "true"}, err: "nsenter: cannot open /proc/4194305/cwd: No such file or directory\n", code: 1},
		{name: "vanished pid -e", args: []string{"-t", "4194305", "-u", "-e", "true"}, err: "nsenter: cannot open /proc/4194305/ns/uts: No such file or directory\n", code: 1},
		{name: "vanished pid -N", args: []string{"-t", "4194305", "-N", "3", "true"}, err: "nsenter: failed to pidfd_open() for 4194305: No such process\n", code: 1},
		{name: "vanished pid -S follow", args: []string{"-t", "4194305", "-r", "-S", "follow", "true"}, err: "nsenter: cannot open /proc/4194305/root: No such file or directory\n", code: 1},
		{name: "-u without target", args: []string{"-u", "true"}, err: "nsenter: neither filename nor target pid supplied for ns/uts\n", code: 1},
		{name: "-w without target", args: []string{"-w", "true"}, err: "nsenter: neither filename nor target pid supplied for cwd\n", code: 1},
		{name: "-r without target", args: []string{"-r", "true"}, err: "nsenter: neither filename nor target pid supplied for root\n", code: 1},
		{name: "-a without target", args: []string{"-a", "true"}, err: "nsenter: no target PID specified for --all\n", code: 1},
		{name: "-e without target", args: []string{"-r/", "-e", "true"}, err: "nsenter: --env requires --target\n", code: 1},
		{name: "-c without target", args: []string{"-r/", "-c", "true"}, err: "nsenter: --join-cgroup requires --target\n", code: 1},
		{name: "no namespace", args: []string{"true"}, err: "nsenter: no namespace specified\n", code: 1},
		{name: "-t alone", args: []string{"-t", "$T", "true"}, err: "nsenter: no namespace specified\n", code: 1},
		{name: "not a namespace", args: []string{"--net=/etc/passwd", "true"}, err: "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n", code: 1},
		{name: "a directory", args: []string{"--net=/tmp", "true"}, err: "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n", code: 1},
		{name: "missing file", args: []string{"--net=/nonexistent", "true"}, err: "nsenter: cannot open /nonexistent: No such file or directory\n", code: 1},
		{name: "-w with -W", args: []string{"-t", "$T", "-u", "-w", "-W", "/", "true"}, err: "nsenter: mutually exclusive arguments: --wdns --wd\n", code: 1},
		{name: "not found", args: []string{"-t", "$T", "-u", "/nonexistent-cmd"}, err: "nsenter: failed to execute /nonexistent-cmd: No such file or directory\n", code: 127},
		{name: "-p not found", args: []string{"-t", "$T", "-p", "/nonexistent-cmd"}, err: "nsenter: failed to execute /nonexistent-cmd: No such file or directory\n", code: 127},
		{name: "not executable", args: []string{"-t", "$T", "-u", "/etc/passwd"}, err: "nsenter: failed to execute /etc/passwd: Permission denied\n", code: 126},
		{name: "-p not executable", args: []string{"-t", "$T", "-p", "/etc/passwd"}, err: "nsenter: failed to execute /etc/passwd: Permission denied\n", code: 126},
		{name: "-S abc", args: []string{"-S", "abc", "true"}, err: "nsenter: failed to parse uid: 'abc'\n", code: 1},
		{name: "-G -1", args: []string{"-G", "-1", "true"}, err: "nsenter: failed to parse gid: '-1'\n", code: 1},
		{name: "-N x", args: []string{"-N", "x", "true"}, err: "nsenter: failed to parse file descriptor: 'x'\n", code: 1},
		{name: "-N -1", args: []string{"-N", "-1", "true"}, err: "nsenter: failed to parse file descriptor: '-1'\n", code: 1},
		{name: "--bogus", args: []string{"--bogus"}, err: "nsenter: unrecognized option '--bogus'" + try, code: 1},
		{name: "-X", args: []string{"-X"}, err: "nsenter: invalid option -- 'X'" + try, code: 1},
		{name: "-t missing", args: []string{"-t"}, err: "nsenter: option requires an argument -- 't'" + try, code: 1},
		{name: "--dir missing", args: []string{"--dir"}, err: "nsenter: option '--dir' requires an argument" + try, code: 1},
		{name: "--all=1", args: []string{"--all=1"}, err: "nsenter: option '--all' doesn't allow an argument" + try, code: 1},
		{name: "--dir nonexistent", args: []string{"--dir", "/nonexistent", "true"}, err: "nsenter: cannot open /nonexistent: No such file or directory\n", code: 1},
		{name: "--help >/dev/full", sh: `"$BIN" nsenter --help >/dev/full`, err: "nsenter: write error: No space left on device\n", code: 1},
		{name: "-V", args: []string{"-V"}, out: regexp.MustCompile(`^nsenter from nsbox \S+\n$`)},
		{name: "--help", args: []string{"--help"}, out: regexp.MustCompile(`(?s)^\nUsage:\n nsenter \[options\].*\n     --dir <dir> .*\n -V, --version +display version\n.*$`)},
		// Abbreviations.
		{name: "--tar --ut", args: []string{"--tar", "$T", "--ut", "hostname"}, out: regexp.MustCompile(`^tgt\n$`)},
		{name: "--no-f", args: []string{"--tar=$T", "--pi", "--no-f", "true"}, out: regexp.MustCompile(`^$`)},
		{name: "--user-p", args: []string{"--user-p"}, err: "nsenter: no namespace specified for --user-parent\n", code: 1},
		{name: "--us ambiguous", args: []string{"--us", "true"}, err: "nsenter: option '--us' is ambiguous; possibilities: '--user' '--user-parent'" + try, code: 1},
	}
	builds(t, func(t *testing.T, b build) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				testutil.CheckNoLeaks(t)
				argv := b.nsenter()
				for _, a := range c.args {
					argv = append(argv, strings.ReplaceAll(a, "$T", target))
				}
				if c.sh != "" {
					argv = []string{"sh", "-c", c.sh}
				}
				r := testutil.RunWith(t, testutil.Opts{Env: []string{"BIN=" + b.bin, "T=" + target}}, argv...)
				if c.out != nil && !c.out.MatchString(r.Stdout) || c.out == nil && r.Stdout != "" {
					t.Errorf("stdout %q", r.Stdout)
				}
				if r.Stderr != c.err || r.Code != c.code || r.Signal != 0 {
					t.Errorf("want exit %d, stderr %q; got %v", c.code, c.err, r)
				}
			})
		}
	})
}
