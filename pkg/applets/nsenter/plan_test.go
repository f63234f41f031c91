package nsenter

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsexec"
)

// planOf parses args as the applet does, without acting on them: the
// Plan, or the message and exit status the applet would end with.
func planOf(args ...string) (p *Plan, stdout, msg string, code int) {
	var out bytes.Buffer
	p, _, err := parse(&applet.Env{Name: "nsenter", Args: args, Stdout: &out, Stderr: &out})
	msg, code = applet.Status("nsenter", err)
	return p, out.String(), msg, code
}

// plan is a Plan with the defaults of an empty command line, changed by f.
func plan(f func(p *Plan)) *Plan {
	p := &Plan{Uid: -1, Gid: -1}
	f(p)
	return p
}

// fromTarget is the Join of type t from target 5.
func fromTarget(t ns.Type) Join {
	return Join{Type: t, Path: "/proc/5/ns/" + t.String(), FromTarget: true}
}

func TestPlan(t *testing.T) {
	argv := []string{"sh", "-c", "id"}
	tests := []struct {
		args []string
		want *Plan
	}{
		{[]string{"-t", "5", "-u", "hostname"}, plan(func(p *Plan) {
			p.Target, p.Joins, p.Argv = 5, []Join{fromTarget(ns.Uts)}, []string{"hostname"}
		})},
		// Entered in util-linux's order, whatever the order of the options.
		{[]string{"-m", "-u", "-i", "-n", "-p", "-C", "-U", "-T", "--target=5"}, plan(func(p *Plan) {
			p.Target = 5
			for _, t := range ns.JoinOrder {
				p.Joins = append(p.Joins, fromTarget(t))
			}
		})},
		// A FILE, attached to the short option or after "=", wins over the
		// target; -un is -u with the file "n".
		{[]string{"-t5", "-n/run/netns/x", "--uts=/u", "-un", "-i", "sh", "-c", "id"}, plan(func(p *Plan) {
			p.Target, p.Argv = 5, argv
			p.Joins = []Join{fromTarget(ns.Ipc), {Type: ns.Uts, Path: "n"}, {Type: ns.Net, Path: "/run/netns/x"}}
		})},
		{[]string{"--net=", "true"}, plan(func(p *Plan) {
			p.Joins, p.Argv = []Join{{Type: ns.Net, Path: ""}}, []string{"true"}
		})},
		// --dir: a namespace option without a file takes the handle's,
		// unless there is a target.
		{[]string{"--dir", "/d", "-u", "--net=/n"}, plan(func(p *Plan) {
			p.Dir, p.Joins = "/d", []Join{{Type: ns.Uts, Path: "/d/uts"}, {Type: ns.Net, Path: "/n"}}
		})},
		{[]string{"--dir=/d", "-t", "5", "-u"}, plan(func(p *Plan) {
			p.Dir, p.Target, p.Joins = "/d", 5, []Join{fromTarget(ns.Uts)}
		})},
		{[]string{"-a", "-t", "5", "-F", "--", "-u"}, plan(func(p *Plan) {
			p.Target, p.All, p.NoFork, p.Argv = 5, &Source{Path: "/proc/5/ns"}, true, []string{"-u"}
		})},
		{[]string{"-N", "3", "-t", "5", "--user-parent"}, plan(func(p *Plan) {
			p.NetSocket, p.Target, p.UserParent = &Socket{FD: 3}, 5, true
		})},
		{[]string{"-t", "5", "-r", "-w"}, plan(func(p *Plan) {
			p.Target, p.Root, p.Wd = 5, &Source{Path: "/proc/5/root"}, &Source{Path: "/proc/5/cwd"}
		})},
		{[]string{"-t", "5", "-r/x", "--wd=/y", "-u"}, plan(func(p *Plan) {
			p.Target, p.Root, p.Wd, p.Joins = 5, &Source{Path: "/x"}, &Source{Path: "/y"}, []Join{fromTarget(ns.Uts)}
		})},
		{[]string{"--root=", "-W", "/w"}, plan(func(p *Plan) { p.Root, p.WdNs = &Source{Path: ""}, "/w" })},
		{[]string{"-S", "1", "-G2", "--preserve-credentials", "--keep-caps", "-Z", "-r/"}, plan(func(p *Plan) {
			p.Uid, p.Gid, p.Preserve, p.KeepCaps, p.Root = 1, 2, true, true, &Source{Path: "/"}
		})},
		{[]string{"-t", "5", "-S", "follow", "-G", "follow", "-U"}, plan(func(p *Plan) {
			p.Target, p.Joins = 5, []Join{fromTarget(ns.User)}
			p.FollowUid, p.FollowGid, p.Follow = true, true, &Source{Path: "/proc/5/"}
		})},
		{[]string{"-t", "5", "-e", "-c", "-u"}, plan(func(p *Plan) {
			p.Target, p.Joins = 5, []Join{fromTarget(ns.Uts)}
			p.Environ, p.Cgroup = &Source{Path: "/proc/5/environ"}, &Source{Path: "/proc/5/cgroup"}
		})},
		// Without a target, what needs one fails when its turn comes.
		{[]string{"-a", "-N", "0", "-r", "-w", "-e", "-c"}, plan(func(p *Plan) {
			p.All = &Source{NoTarget: "no target PID specified for --all"}
			p.NetSocket = &Socket{FD: 0, NoTarget: "--net-socket requires --target"}
			p.Root = &Source{NoTarget: "neither filename nor target pid supplied for root"}
			p.Wd = &Source{NoTarget: "neither filename nor target pid supplied for cwd"}
			p.Environ = &Source{NoTarget: "--env requires --target"}
			p.Cgroup = &Source{NoTarget: "--join-cgroup requires --target"}
		})},
		{[]string{"-G", "follow", "-S", "follow"}, plan(func(p *Plan) {
			p.FollowUid, p.FollowGid, p.Follow = true, true, &Source{NoTarget: "--setuid follow requires --target"}
		})},
		{[]string{"-S", "7", "-G", "follow"}, plan(func(p *Plan) {
			p.Uid, p.FollowGid, p.Follow = 7, true, &Source{NoTarget: "--setgid follow requires --target"}
		})},
		// What open finds out (nothing to enter) is not the plan's to say.
		{[]string{}, plan(func(p *Plan) {})},
		// 2.43: -t PID:INODE, the inode of a pidfd of the process meant.
		{[]string{"-t", "5:123", "-u"}, plan(func(p *Plan) {
			p.Target, p.TargetInode, p.Joins = 5, 123, []Join{fromTarget(ns.Uts)}
		})},
		{[]string{"--target=5:18446744073709551615", "-a"}, plan(func(p *Plan) {
			p.Target, p.TargetInode, p.All = 5, 1<<64-1, &Source{Path: "/proc/5/ns"}
		})},
		// 2.43: =:NSID, a namespace by its 64-bit id; "./:x" is a file.
		{[]string{"--net=:7", "-U:4098", "-m./:x", "-t", "5", "-u"}, plan(func(p *Plan) {
			p.Target = 5
			p.Joins = []Join{{Type: ns.User, ByID: true, NsID: 4098}, fromTarget(ns.Uts),
				{Type: ns.Net, ByID: true, NsID: 7}, {Type: ns.Mnt, Path: "./:x"}}
		})},
		{[]string{"-n:18446744073709551615", "-n:0"}, plan(func(p *Plan) {
			p.Joins = []Join{{Type: ns.Net, ByID: true}}
		})},
		// --netns: /run/netns/NAME and ip netns exec's mounts; a path is
		// a pin, with /etc/netns/NAME only when it is /run/netns/NAME.
		{[]string{"--netns", "box", "-t", "5", "-u", "ip", "a"}, plan(func(p *Plan) {
			p.Target, p.Argv = 5, []string{"ip", "a"}
			p.Joins = []Join{fromTarget(ns.Uts), {Type: ns.Net, Path: "/run/netns/box"}}
			p.Netns = &nsexec.Netns{Name: "box", Etc: "/etc/netns/box"}
		})},
		{[]string{"--netns=/run/netns/box"}, plan(func(p *Plan) {
			p.Joins = []Join{{Type: ns.Net, Path: "/run/netns/box"}}
			p.Netns = &nsexec.Netns{Name: "/run/netns/box", Etc: "/etc/netns/box"}
		})},
		{[]string{"--netns", "./box", "-a", "-t", "5"}, plan(func(p *Plan) {
			p.Target, p.All = 5, &Source{Path: "/proc/5/ns"}
			p.Joins = []Join{{Type: ns.Net, Path: "./box"}}
			p.Netns = &nsexec.Netns{Name: "./box"}
		})},
		{[]string{"--netns", strings.Repeat("n", 255)}, plan(func(p *Plan) {
			p.Joins = []Join{{Type: ns.Net, Path: "/run/netns/" + strings.Repeat("n", 255)}}
			p.Netns = &nsexec.Netns{Name: strings.Repeat("n", 255)}
		})},
	}
	for _, tc := range tests {
		p, out, msg, code := planOf(tc.args...)
		if code != 0 || msg != "" || out != "" {
			t.Errorf("nsenter %q: exit %d, %q %q", tc.args, code, out, msg)
			continue
		}
		if !reflect.DeepEqual(p, tc.want) {
			t.Errorf("nsenter %q:\n got %+v\nwant %+v", tc.args, p, tc.want)
		}
	}
}

// TestPlanRefused: command lines refused before anything is opened, with
// util-linux's message and status (and getopt's "Try" line for usage).
func TestPlanRefused(t *testing.T) {
	try := "\nTry 'nsenter --help' for more information.\n"
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"-t", "0", "-u"}, "failed to parse PID argument '0': Numerical result out of range\n"},
		{[]string{"-t", "-1"}, "failed to parse PID argument '-1': Numerical result out of range\n"},
		{[]string{"-t", "2147483648"}, "failed to parse PID argument '2147483648': Numerical result out of range\n"},
		{[]string{"-t", "abc"}, "failed to parse PID argument 'abc': Invalid argument\n"},
		{[]string{"-t", ""}, "failed to parse PID argument '': Invalid argument\n"},
		{[]string{"-t", "12x"}, "failed to parse PID argument '12x': Invalid argument\n"},
		{[]string{"-S", "abc"}, "failed to parse uid: 'abc'\n"},
		{[]string{"-G", "-1"}, "failed to parse gid: '-1'\n"},
		{[]string{"-G", "4294967295"}, "failed to parse gid: '4294967295'\n"},
		{[]string{"-N", "x"}, "failed to parse file descriptor: 'x'\n"},
		{[]string{"-N", "-1"}, "failed to parse file descriptor: '-1'\n"},
		// A bad value is refused when read, before a later bad option.
		{[]string{"-S", "x", "--bogus"}, "failed to parse uid: 'x'\n"},
		{[]string{"--bogus", "-S", "x"}, "unrecognized option '--bogus'" + try},
		{[]string{"-X"}, "invalid option -- 'X'" + try},
		{[]string{"-t"}, "option requires an argument -- 't'" + try},
		{[]string{"--dir"}, "option '--dir' requires an argument" + try},
		{[]string{"--all=1"}, "option '--all' doesn't allow an argument" + try},
		{[]string{"--us", "true"}, "option '--us' is ambiguous; possibilities: '--user' '--user-parent'" + try},
		{[]string{"-t", "5", "-u", "-w", "-W", "/"}, "mutually exclusive arguments: --wdns --wd\n"},
		{[]string{"-W", "/", "-w/x"}, "mutually exclusive arguments: --wdns --wd\n"},
		// The first namespace without a file, in the order the options
		// are defined, not as given.
		{[]string{"-u", "true"}, "neither filename nor target pid supplied for ns/uts\n"},
		{[]string{"-u", "-m", "true"}, "neither filename nor target pid supplied for ns/mnt\n"},
		{[]string{"-U", "--net=/n", "-r/"}, "neither filename nor target pid supplied for ns/user\n"},
		{[]string{"--dir=", "-p"}, "neither filename nor target pid supplied for ns/pid\n"},
		// 2.43's --target: once, PID or PID:INODE.
		{[]string{"-t", "5", "--target=6", "-u"}, "option --target may be given only once\n"},
		{[]string{"-t", "5", "-t", "x"}, "option --target may be given only once\n"},
		{[]string{"-t", "5:"}, "failed to parse PID argument '5:': Invalid argument\n"},
		{[]string{"-t", "5:x"}, "failed to parse PID argument '5:x': Invalid argument\n"},
		{[]string{"-t", "5:1:2"}, "failed to parse PID argument '5:1:2': Invalid argument\n"},
		{[]string{"-t", ":5"}, "failed to parse PID argument ':5': Invalid argument\n"},
		{[]string{"-t", "x:5"}, "failed to parse PID argument 'x:5': Invalid argument\n"},
		{[]string{"-t", "5:0"}, "failed to parse PID argument '5:0': Numerical result out of range\n"},
		{[]string{"-t", "5:-1"}, "failed to parse PID argument '5:-1': Numerical result out of range\n"},
		{[]string{"-t", "5:18446744073709551616"}, "failed to parse PID argument '5:18446744073709551616': Numerical result out of range\n"},
		{[]string{"-t", "0:5"}, "failed to parse PID argument '0:5': Numerical result out of range\n"},
		{[]string{"-t", "-1:5"}, "failed to parse PID argument '-1:5': Numerical result out of range\n"},
		{[]string{"-t", "2147483648:5"}, "failed to parse PID argument '2147483648:5': Numerical result out of range\n"},
		// 2.43's :NSID, refused when read.
		{[]string{"--net=:x", "--bogus"}, "failed to parse nsid: x\n"},
		{[]string{"-u:"}, "failed to parse nsid: \n"},
		{[]string{"--time=:-1"}, "failed to parse nsid: -1\n"},
		{[]string{"-m:18446744073709551616"}, "failed to parse nsid: 18446744073709551616\n"},
		// --netns.
		{[]string{"--netns"}, "option '--netns' requires an argument" + try},
		{[]string{"--netns", "a", "--net=/n"}, "mutually exclusive arguments: --net --netns\n"},
		{[]string{"-n", "--netns", "a"}, "mutually exclusive arguments: --net --netns\n"},
		{[]string{"--netns=a", "-N", "3"}, "mutually exclusive arguments: --net-socket --netns\n"},
		{[]string{"--netns", ""}, "invalid netns name ''\n"},
		{[]string{"--netns", ".."}, "invalid netns name '..'\n"},
		{[]string{"--netns", strings.Repeat("n", 256)}, "invalid netns name '" + strings.Repeat("n", 256) + "'\n"},
	}
	for _, tc := range tests {
		p, out, msg, code := planOf(tc.args...)
		if want := "nsenter: " + tc.msg; msg != want || code != 1 || p != nil || out != "" {
			t.Errorf("nsenter %q: exit %d, stdout %q, message %q; want 1, %q", tc.args, code, out, msg, want)
		}
	}
}

func TestPlanHelpVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--he"}, {"-t", "5", "-u", "--help"}} {
		if p, out, msg, code := planOf(args...); p != nil || code != 0 || msg != "" || out != usage {
			t.Errorf("nsenter %q: exit %d, message %q, stdout %.40q", args, code, msg, out)
		}
	}
	if _, out, _, code := planOf("-V"); code != 0 || !strings.HasPrefix(out, "nsenter from nsbox ") {
		t.Errorf("nsenter -V: %d %q", code, out)
	}
}

// TestOpenOrder: the errors open gives, in util-linux's order: a step that
// needs the target fails when its turn comes, after the files named before
// it were opened. None of these needs root or enters anything.
func TestOpenOrder(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"true"}, "no namespace specified"},
		{[]string{"--dir", "/nonexistent", "-a"}, "cannot open /nonexistent: No such file or directory"},
		{[]string{"--dir", "/nonexistent", "-N", "3"}, "cannot open /nonexistent: No such file or directory"},
		{[]string{"-a", "-N", "3"}, "no target PID specified for --all"},
		{[]string{"-N", "3", "-r"}, "--net-socket requires --target"},
		{[]string{"--user-parent"}, "no namespace specified for --user-parent"},
		{[]string{"--user-parent", "--net=/nonexistent"}, "cannot open /nonexistent: No such file or directory"},
		{[]string{"-w", "-r"}, "neither filename nor target pid supplied for root"},
		{[]string{"--net=/nonexistent", "-r"}, "cannot open /nonexistent: No such file or directory"},
		{[]string{"-r/nonexistent", "-w"}, "cannot open /nonexistent: No such file or directory"},
		{[]string{"-w", "-e", "-S", "follow"}, "neither filename nor target pid supplied for cwd"},
		{[]string{"-r/", "-e", "-c", "-G", "follow"}, "--setgid follow requires --target"},
		{[]string{"-r/", "-c", "-e"}, "--env requires --target"},
		{[]string{"-r/", "-c"}, "--join-cgroup requires --target"},
	}
	for _, tc := range tests {
		p, _, msg, code := planOf(tc.args...)
		if code != 0 {
			t.Errorf("nsenter %q: refused by the plan: %q", tc.args, msg)
			continue
		}
		_, err := p.open("nsenter")
		if err == nil || err.Error() != tc.msg {
			t.Errorf("nsenter %q: open: %v; want %q", tc.args, err, tc.msg)
		}
	}
}

// TestOpenJoinPlan: the JoinPlan open hands to nsexec, for namespaces of
// this process itself (which needs no privilege to open).
func TestOpenJoinPlan(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	tests := []struct {
		args  []string
		check func(t *testing.T, jp *nsexec.JoinPlan)
	}{
		// Every namespace the target's own: one setns on its pidfd, the
		// files left unopened.
		{[]string{"-t", self, "-n", "-p", "-u"}, func(t *testing.T, jp *nsexec.JoinPlan) {
			if jp.PidFd < 0 || jp.PidMask != unix.CLONE_NEWUTS|unix.CLONE_NEWNET|unix.CLONE_NEWPID || !jp.Fork {
				t.Errorf("PidFd %d, PidMask %#x, Fork %v; want a pidfd for uts|net|pid, and a fork", jp.PidFd, jp.PidMask, jp.Fork)
			}
			want := []nsexec.Join{{Type: ns.Uts, Fd: -1, Path: "/proc/" + self + "/ns/uts"},
				{Type: ns.Net, Fd: -1, Path: "/proc/" + self + "/ns/net"}, {Type: ns.Pid, Fd: -1, Path: "/proc/" + self + "/ns/pid"}}
			if !reflect.DeepEqual(jp.Joins, want) {
				t.Errorf("Joins %+v, want %+v", jp.Joins, want)
			}
		}},
		// A file: every one opened, no pidfd; -F: no fork; -G drops the
		// supplementary groups.
		{[]string{"-t", self, "--net=/proc/self/ns/net", "-p", "-F", "-r/", "-S", "1", "-G", "2", "--keep-caps", "sh", "-c", "id"}, func(t *testing.T, jp *nsexec.JoinPlan) {
			if jp.PidFd >= 0 || jp.Fork || len(jp.Joins) != 2 || jp.Joins[0].Fd < 0 || jp.Joins[1].Fd < 0 {
				t.Errorf("PidFd %d, Fork %v, Joins %+v; want both files open, no pidfd, no fork", jp.PidFd, jp.Fork, jp.Joins)
			}
			if jp.RootFd < 0 || jp.WdFd >= 0 || jp.Uid != 1 || jp.Gid != 2 || !jp.DropGroups || jp.KeepCaps {
				t.Errorf("RootFd %d WdFd %d Uid %d Gid %d DropGroups %v KeepCaps %v", jp.RootFd, jp.WdFd, jp.Uid, jp.Gid, jp.DropGroups, jp.KeepCaps)
			}
			if jp.Path != "sh" || !reflect.DeepEqual(jp.Argv, []string{"sh", "-c", "id"}) {
				t.Errorf("Path %q Argv %q", jp.Path, jp.Argv)
			}
		}},
		// A user namespace: root there unless told otherwise, and the
		// target's ids for follow, read after entering.
		{[]string{"-t", self, "-U", "-G", "follow", "-e"}, func(t *testing.T, jp *nsexec.JoinPlan) {
			if !jp.NeedsConstructor() || jp.PidFd >= 0 || jp.Uid != 0 || jp.Gid != 0 || !jp.DropGroups {
				t.Errorf("Uid %d Gid %d DropGroups %v PidFd %d", jp.Uid, jp.Gid, jp.DropGroups, jp.PidFd)
			}
			if jp.FollowFd < 0 || jp.FollowUid || !jp.FollowGid {
				t.Errorf("FollowFd %d FollowUid %v FollowGid %v; want /proc/PID open, the gid followed", jp.FollowFd, jp.FollowUid, jp.FollowGid)
			}
			b, err := os.ReadFile("/proc/self/environ")
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"); !reflect.DeepEqual(jp.Env, want) {
				t.Errorf("-e on this process: Env %q, want %q", jp.Env, want)
			}
			if jp.Path == "" || len(jp.Argv) != 1 || jp.Argv[0] != "-"+filepath.Base(jp.Path) {
				t.Errorf("no program: Path %q Argv %q, want a login shell", jp.Path, jp.Argv)
			}
		}},
		{[]string{"-t", self, "-U", "--preserve-credentials", "--keep-caps", "true"}, func(t *testing.T, jp *nsexec.JoinPlan) {
			if jp.Uid != -1 || jp.Gid != -1 || jp.DropGroups || !jp.KeepCaps {
				t.Errorf("Uid %d Gid %d DropGroups %v KeepCaps %v", jp.Uid, jp.Gid, jp.DropGroups, jp.KeepCaps)
			}
		}},
	}
	for _, tc := range tests {
		p, _, msg, code := planOf(tc.args...)
		if code != 0 {
			t.Fatalf("nsenter %q: %q", tc.args, msg)
		}
		jp, err := p.open("nsenter")
		if err != nil {
			t.Fatalf("nsenter %q: open: %v", tc.args, err)
		}
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) { tc.check(t, jp) })
		for _, fd := range []int{jp.PidFd, jp.RootFd, jp.WdFd, jp.FollowFd} {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
		for _, j := range jp.Joins {
			if j.Fd >= 0 {
				unix.Close(j.Fd)
			}
		}
	}
}

// TestOpenTarget: -t PID:INODE, -r and -w without a namespace, and --netns,
// on this process (no privilege needed).
func TestOpenTarget(t *testing.T) {
	self := strconv.Itoa(os.Getpid())
	pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		t.Skipf("no pidfd: %v", err)
	}
	var st unix.Stat_t
	err = unix.Fstat(pidfd, &st)
	unix.Close(pidfd)
	if err != nil {
		t.Fatal(err)
	}
	ino := strconv.FormatUint(st.Ino, 10)
	wrong := strconv.FormatUint(st.Ino+1, 10)
	for _, tc := range []struct {
		args []string
		msg  string // "": open succeeds
	}{
		{[]string{"-t", self + ":" + ino, "-u", "-n"}, ""},
		{[]string{"-t", self + ":" + ino, "--net=/proc/self/ns/net", "-r/"}, ""},
		{[]string{"-t", self + ":" + wrong, "-u"}, "failed to obtain a valid file descriptor for PID " + self + ": No such process"},
		{[]string{"-t", "4194305:" + ino, "-u"}, "failed to obtain a valid file descriptor for PID 4194305: No such process"},
		{[]string{"-t", self, "-r/"}, "no namespace specified"},
		{[]string{"-t", self, "-w", "-r"}, "no namespace specified"},
		{[]string{"-t", self, "-r/nonexistent"}, "cannot open /nonexistent: No such file or directory"},
		{[]string{"--netns", "nsbox-test-nonexistent"}, "cannot open /run/netns/nsbox-test-nonexistent: No such file or directory"},
		{[]string{"--netns", "/proc/self/ns/net", "-t", self, "-U", "-c"}, "--netns cannot be combined with entering a user or time namespace"},
		{[]string{"--netns", "/proc/self/ns/net", "-t", self, "-u"}, ""},
	} {
		p, _, msg, code := planOf(tc.args...)
		if code != 0 {
			t.Fatalf("nsenter %q: %q", tc.args, msg)
		}
		jp, err := p.open("nsenter")
		switch {
		case tc.msg != "" && (err == nil || err.Error() != tc.msg):
			t.Errorf("nsenter %q: open: %v; want %q", tc.args, err, tc.msg)
		case tc.msg == "" && err != nil:
			t.Errorf("nsenter %q: open: %v", tc.args, err)
		case tc.msg == "":
			// A checked target: every file is open, whether or not the
			// pidfd is taken, and --netns goes on to the JoinPlan.
			for _, j := range jp.Joins {
				if j.Fd < 0 {
					t.Errorf("nsenter %q: %s not opened", tc.args, j.Type)
				}
				unix.Close(j.Fd)
			}
			if jp.Netns != p.Netns {
				t.Errorf("nsenter %q: Netns %+v, want %+v", tc.args, jp.Netns, p.Netns)
			}
		}
	}
}
