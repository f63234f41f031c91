package unshare

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsexec"
)

// These tests read command lines into plans, and plans into the stages
// they run, without running anything: no root, no namespace.

// testCaller is a caller whose effective ids differ from each other and
// from 0, so that every map shows which id it took.
var testCaller = caller{
	euid: 1000, egid: 1001,
	environ: []string{"HOME=/home/u", "PATH=/bin", "TERM=vt100"},
	shell:   func() string { return "/bin/zsh" },
}

// planOf reads args as the unshare applet does and plans them for
// testCaller.
func planOf(t *testing.T, args ...string) (*plan, error) {
	t.Helper()
	e := &applet.Env{Name: "unshare", Args: args, Stdout: io.Discard, Stderr: io.Discard}
	o, done, err := parseOptions(e)
	if done {
		t.Fatalf("unshare %q: answered --help or --version", args)
	}
	if err != nil {
		return nil, err
	}
	return o.plan(testCaller)
}

// describe spells every field of p that differs from a plan of no
// options, in a fixed order, and the routes it takes with and without
// the C constructor.
func describe(p *plan) string {
	var w []string
	add := func(format string, a ...any) { w = append(w, fmt.Sprintf(format, a...)) }
	if p.unshare != 0 {
		add("ns=%s", nsNames(p.unshare))
	}
	for _, pin := range p.pins {
		add("pin=%s:%s", pin.File, pin.Path)
	}
	if p.uidMap != nil {
		add("uid=%d:%d", p.uidMap.Inside, p.uidMap.Outside)
	}
	if p.gidMap != nil {
		add("gid=%d:%d", p.gidMap.Inside, p.gidMap.Outside)
	}
	if p.ranges != nil {
		add("ranges=%s/%s", specs(p.ranges.uid), specs(p.ranges.gid))
	}
	if p.owner != nil {
		add("owner=%d:%d", p.owner[0], p.owner[1])
	}
	s := p.steps
	if s.Setgroups != "" {
		add("setgroups=%s", s.Setgroups)
	}
	if p.fork {
		add("fork")
	}
	if p.forward {
		add("forward")
	}
	if s.Pdeathsig != 0 {
		add("pdeathsig=%d", s.Pdeathsig)
	}
	w = append(w, describeSteps(s)...)
	if !slices.Equal(s.Env, testCaller.environ) {
		add("env=[%s]", strings.Join(s.Env, ","))
	}
	if p.readyFd >= 0 {
		add("readyfd=%d", p.readyFd)
	}
	if p.statusFd >= 0 {
		add("statusfd=%d", p.statusFd)
	}
	if p.pidFile != nil {
		add("pidfile=%s", *p.pidFile)
	}
	add("exec=%s%q", s.Path, s.Argv)
	add("route=%s", p.route(true))
	if r := p.route(false); r != p.route(true) {
		add("purego=%s", r)
	}
	return strings.Join(w, " ")
}

// describeSteps spells the steps inside the namespaces.
func describeSteps(s *nsexec.Plan) []string {
	var w []string
	add := func(format string, a ...any) { w = append(w, fmt.Sprintf(format, a...)) }
	if s.Propagation != 0 {
		add("propagation=%s", map[uintptr]string{unix.MS_PRIVATE: "private", unix.MS_SLAVE: "slave", unix.MS_SHARED: "shared"}[s.Propagation])
	}
	if s.TimeOffsets {
		add("time=%d,%d", s.Monotonic, s.Boottime)
	}
	if s.ProcDir != "" {
		add("proc=%s", s.ProcDir)
	}
	if s.BinfmtDir != "" {
		add("binfmt=%s", s.BinfmtDir)
	}
	if s.Interp != "" {
		add("interp=%s", s.Interp)
	}
	if s.SetHostname {
		add("hostname=%s", s.Hostname)
	}
	if s.Root != "" {
		add("root=%s", s.Root)
	}
	if s.Wd != "" {
		add("wd=%s", s.Wd)
	}
	if s.Uid >= 0 {
		add("setuid=%d", s.Uid)
	}
	if s.Gid >= 0 {
		add("setgid=%d", s.Gid)
	}
	if s.KeepCaps {
		add("keepcaps")
	}
	if s.Init {
		add("init")
	}
	return w
}

func nsNames(flags uintptr) string {
	var names []string
	for t := ns.Type(0); t < ns.NTypes; t++ {
		if flags&t.Flag() != 0 {
			names = append(names, t.String())
		}
	}
	return strings.Join(names, ",")
}

func specs(rs []idmap.Range) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Spec())
	}
	return strings.Join(s, ",")
}

// planCase is a command line and the plan it makes (describe).
type planCase struct {
	args []string
	want string
}

func checkPlans(t *testing.T, tests []planCase) {
	t.Helper()
	for _, tc := range tests {
		p, err := planOf(t, tc.args...)
		if err != nil {
			t.Errorf("unshare %q: %v", tc.args, err)
			continue
		}
		if got := describe(p); got != tc.want {
			t.Errorf("unshare %q\n got: %s\nwant: %s", tc.args, got, tc.want)
		}
	}
}

func TestPlan(t *testing.T) {
	tests := []planCase{
		// No option: the program runs here, in this process.
		{[]string{"true"}, `exec=true["true"] route=inProcess`},
		{nil, `exec=/bin/zsh["-zsh"] route=inProcess`},
		{[]string{"--", "-r"}, `exec=-r["-r"] route=inProcess`},
		// Propagation: private by default, and only with a mount namespace.
		{[]string{"-m", "true"}, `ns=mnt propagation=private exec=true["true"] route=inProcess`},
		{[]string{"-m", "--propagation", "slave", "true"}, `ns=mnt propagation=slave exec=true["true"] route=inProcess`},
		{[]string{"--propagation=shared", "-m", "true"}, `ns=mnt propagation=shared exec=true["true"] route=inProcess`},
		{[]string{"-m", "--propagation", "unchanged", "true"}, `ns=mnt exec=true["true"] route=inProcess`},
		{[]string{"--propagation", "shared", "true"}, `exec=true["true"] route=inProcess`},
		{[]string{"-muinpCT", "true"}, `ns=mnt,net,pid,uts,ipc,cgroup,time propagation=private exec=true["true"] route=inProcess`},
		// Pins: pid and time name the namespace of the children.
		{[]string{"--net=/n", "--pid=/p", "--time=/t", "-u", "true"},
			`ns=net,pid,uts,time pin=net:/n pin=pid_for_children:/p pin=time_for_children:/t exec=true["true"] route=inProcess`},
		{[]string{"--uts=", "true"}, `ns=uts pin=uts: exec=true["true"] route=inProcess`},
		// One-id maps from the caller's effective ids; -r and -c win
		// whatever the order, -c over -r.
		{[]string{"-r", "id"}, `ns=user uid=0:1000 gid=0:1001 exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"-c"}, `ns=user uid=1000:1000 gid=1001:1001 exec=/bin/zsh["-zsh"] route=inPlace purego=forkStage`},
		{[]string{"--map-user=5", "--map-group=6", "id"}, `ns=user uid=5:1000 gid=6:1001 exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"--map-user=5", "-r", "id"}, `ns=user uid=0:1000 gid=0:1001 exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"-c", "-r", "id"}, `ns=user uid=1000:1000 gid=1001:1001 exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"--map-group=0", "id"}, `ns=user gid=0:1001 exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"-U", "--setgroups", "deny", "id"}, `ns=user setgroups=deny exec=id["id"] route=inPlace purego=forkStage`},
		// Range maps are written from outside; a one-id map joins them,
		// and --map-group's setgroups deny comes along.
		{[]string{"--map-users=0:100000:65536", "id"}, `ns=user ranges=0:100000:65536/ exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"--map-users=0:100000:65536", "--map-group=0", "id"},
			`ns=user ranges=0:100000:65536/0:1001:1 setgroups=deny exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"--map-users=100000,0,65536", "id"}, `ns=user ranges=0:100000:65536/ exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"--map-groups=1:200:10", "--map-groups=20:300:5", "-r", "id"},
			`ns=user ranges=0:1000:1/0:1001:1,1:200:10,20:300:5 exec=id["id"] route=inPlace purego=forkStage`},
		// The range that holds -r's inside id gives up its topmost id:
		// here, its only one.
		{[]string{"--map-users=0:1:1", "-r", "--setgroups=allow", "id"},
			`ns=user ranges=0:1000:1/0:1001:1 setgroups=allow exec=id["id"] route=inPlace purego=forkStage`},
		// --owner: every map is written from outside.
		{[]string{"--owner", "5:6", "id"}, `ns=user owner=5:6 exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"--owner", "5:6", "-r", "--setgroups", "allow", "id"},
			`ns=user ranges=0:1000:1/0:1001:1 owner=5:6 setgroups=allow exec=id["id"] route=inPlace purego=forkStage`},
		// Options that imply namespaces.
		{[]string{"--mount-proc", "-fp", "ps"}, `ns=mnt,pid fork propagation=private proc=/proc exec=ps["ps"] route=forkStage`},
		{[]string{"--mount-proc=/x", "true"}, `ns=mnt propagation=private proc=/x exec=true["true"] route=inProcess`},
		{[]string{"--mount-binfmt", "true"},
			`ns=mnt,user propagation=private binfmt=/proc/sys/fs/binfmt_misc exec=true["true"] route=inPlace purego=forkStage`},
		{[]string{"-l", ":a:M::x::/bin/i:", "--mount-binfmt=/b", "true"},
			`ns=mnt,user propagation=private binfmt=/b interp=:a:M::x::/bin/i: exec=true["true"] route=inPlace purego=forkStage`},
		{[]string{"--load-interp=:a:M::x::/bin/i:", "true"},
			`ns=mnt,user propagation=private binfmt=/proc/sys/fs/binfmt_misc interp=:a:M::x::/bin/i: exec=true["true"] route=inPlace purego=forkStage`},
		// 2.43: a bare --mount-binfmt, or -l before any --mount-binfmt,
		// mounts a new /proc first (--mount-proc names it); nsbox does
		// where it can be mounted, in a child forked into a new PID
		// namespace.
		{[]string{"--mount-binfmt", "-fp", "true"},
			`ns=mnt,pid,user fork propagation=private proc=/proc binfmt=/proc/sys/fs/binfmt_misc exec=true["true"] route=forkStage`},
		{[]string{"--mount-binfmt=/proc/sys/fs/binfmt_misc", "-fp", "true"},
			`ns=mnt,pid,user fork propagation=private binfmt=/proc/sys/fs/binfmt_misc exec=true["true"] route=forkStage`},
		{[]string{"-fp", "-l", ":a:M::x::/bin/i:", "true"},
			`ns=mnt,pid,user fork propagation=private proc=/proc binfmt=/proc/sys/fs/binfmt_misc interp=:a:M::x::/bin/i: exec=true["true"] route=forkStage`},
		{[]string{"-fp", "--mount-binfmt=/b", "-l", ":a:M::x::/bin/i:", "true"},
			`ns=mnt,pid,user fork propagation=private binfmt=/b interp=:a:M::x::/bin/i: exec=true["true"] route=forkStage`},
		{[]string{"-fp", "-l", ":a:M::x::/bin/i:", "--mount-binfmt=/b", "true"},
			`ns=mnt,pid,user fork propagation=private proc=/proc binfmt=/b interp=:a:M::x::/bin/i: exec=true["true"] route=forkStage`},
		{[]string{"--mount-proc=/p", "--mount-binfmt", "-fp", "true"},
			`ns=mnt,pid,user fork propagation=private proc=/p binfmt=/proc/sys/fs/binfmt_misc exec=true["true"] route=forkStage`},
		{[]string{"--mount-binfmt", "--mount-proc=/p", "-fp", "true"},
			`ns=mnt,pid,user fork propagation=private proc=/p binfmt=/proc/sys/fs/binfmt_misc exec=true["true"] route=forkStage`},
		{[]string{"--mount-binfmt", "--kill-child", "-p", "true"}, // --kill-child forks
			`ns=mnt,pid,user fork pdeathsig=9 propagation=private proc=/proc binfmt=/proc/sys/fs/binfmt_misc exec=true["true"] route=forkStage`},
		// Without a fork into a new PID namespace the /proc there is
		// stays (2.43 fails: mount /proc failed: Operation not permitted).
		{[]string{"--mount-binfmt", "-p", "true"},
			`ns=mnt,pid,user propagation=private binfmt=/proc/sys/fs/binfmt_misc exec=true["true"] route=inPlace purego=forkStage`},
		{[]string{"--mount-binfmt", "-f", "true"},
			`ns=mnt,user fork propagation=private binfmt=/proc/sys/fs/binfmt_misc exec=true["true"] route=forkStage`},
		{[]string{"--hostname", "box", "true"}, `ns=uts hostname=box exec=true["true"] route=inProcess`},
		{[]string{"--hostname=", "true"}, `ns=uts hostname= exec=true["true"] route=inProcess`},
		// The fork: util-linux's own way unless the child has work to do.
		{[]string{"-f", "true"}, `fork exec=true["true"] route=forkDirect`},
		{[]string{"-fpu", "true"}, `ns=pid,uts fork exec=true["true"] route=forkDirect`},
		{[]string{"--forward-signals", "-n", "true"}, `ns=net fork forward exec=true["true"] route=forkDirect`},
		{[]string{"--kill-child", "-p", "true"}, `ns=pid fork pdeathsig=9 exec=true["true"] route=forkStage`},
		{[]string{"--kill-child=TERM", "true"}, `fork pdeathsig=15 exec=true["true"] route=forkStage`},
		{[]string{"-f", "--init", "true"}, `fork init exec=true["true"] route=forkStage`},
		{[]string{"-fR", "/r", "true"}, `fork root=/r exec=true["true"] route=forkStage`},
		{[]string{"-f", "-w", "/w", "true"}, `fork wd=/w exec=true["true"] route=forkDirect`},
		{[]string{"-f", "--net=/n", "true"}, `ns=net pin=net:/n fork exec=true["true"] route=forkStage`},
		{[]string{"-f", "--setgroups=deny", "true"}, `setgroups=deny fork exec=true["true"] route=forkStage`},
		{[]string{"-rf", "id"}, `ns=user uid=0:1000 gid=0:1001 fork exec=id["id"] route=forkStage`},
		{[]string{"--ready-fd", "3", "--pid-file", "/p", "-f", "true"}, `fork readyfd=3 pidfile=/p exec=true["true"] route=forkStage`},
		{[]string{"--json-status-fd", "4", "-f", "true"}, `fork statusfd=4 exec=true["true"] route=forkStage`},
		{[]string{"--pid-file=", "true"}, `pidfile= exec=true["true"] route=inProcess`},
		// Time offsets, with -T.
		{[]string{"-T", "--monotonic", "5", "--boottime=-3", "true"}, `ns=time time=5,-3 exec=true["true"] route=inProcess`},
		{[]string{"--boottime", "7", "-T", "true"}, `ns=time time=0,7 exec=true["true"] route=inProcess`},
		// Credentials; --keep-caps only with a user namespace.
		{[]string{"-S", "5", "-G", "6", "-U", "--keep-caps", "id"},
			`ns=user setuid=5 setgid=6 keepcaps exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"-m", "--keep-caps", "id"}, `ns=mnt propagation=private exec=id["id"] route=inProcess`},
		{[]string{"-S0", "-G0", "id"}, `setuid=0 setgid=0 exec=id["id"] route=inProcess`},
		// The environment.
		{[]string{"--clear-env", "env"}, `env=[] exec=env["env"] route=inProcess`},
		{[]string{"--whitelist-env", "PATH,TERM", "env"}, `env=[PATH=/bin,TERM=vt100] exec=env["env"] route=inProcess`},
		{[]string{"--whitelist-env=HOME", "--clear-env", "env"}, `env=[HOME=/home/u] exec=env["env"] route=inProcess`},
		// Abbreviations and clusters, as getopt reads them.
		{[]string{"--map-root", "--mount-p", "true"}, `ns=mnt,user uid=0:1000 gid=0:1001 propagation=private proc=/proc exec=true["true"] route=inPlace purego=forkStage`},
		{[]string{"-rmpf", "--kill", "sh"}, `ns=mnt,pid,user uid=0:1000 gid=0:1001 fork pdeathsig=9 propagation=private exec=sh["sh"] route=forkStage`},
	}
	checkPlans(t, tests)
}

// TestPlanErrors: what util-linux refuses, with its words and status 1,
// before anything is opened; the first bad option is the one reported.
func TestPlanErrors(t *testing.T) {
	try := "\nTry 'unshare --help' for more information.\n"
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"-r", "--setgroups", "allow", "true"}, "unshare: options --setgroups=allow and --map-group are mutually exclusive\n"},
		{[]string{"--setgroups=allow", "--map-group=0", "true"}, "unshare: options --setgroups=allow and --map-group are mutually exclusive\n"},
		{[]string{"-c", "--setgroups", "allow"}, "unshare: options --setgroups=allow and --map-group are mutually exclusive\n"},
		{[]string{"--monotonic", "1", "true"}, "unshare: options --monotonic and --boottime require unsharing of a time namespace (-T)\n"},
		{[]string{"--boottime=0", "-r", "true"}, "unshare: options --monotonic and --boottime require unsharing of a time namespace (-T)\n"},
		// A bad value stops the reading where it stands: a later bad
		// option, or a conflict, is not reported.
		{[]string{"-T", "--monotonic", "x", "--bogus"}, "unshare: failed to parse monotonic offset: 'x'\n"},
		{[]string{"--boottime", "1.5", "-T"}, "unshare: failed to parse boottime offset: '1.5'\n"},
		{[]string{"-r", "--setgroups=allow", "--propagation", "bogus"}, "unshare: unsupported propagation mode: bogus\n"},
		{[]string{"--setgroups", "Deny"}, "unshare: unsupported --setgroups argument 'Deny'\n"},
		{[]string{"-S", "abc"}, "unshare: failed to parse uid: 'abc'\n"},
		{[]string{"-G", "-1"}, "unshare: failed to parse gid: '-1'\n"},
		{[]string{"--setuid=4294967295"}, "unshare: failed to parse uid: '4294967295'\n"},
		{[]string{"--map-user", "nosuchuser_zz"}, "unshare: failed to parse uid: 'nosuchuser_zz'\n"},
		{[]string{"--map-group="}, "unshare: failed to parse gid: ''\n"},
		{[]string{"--kill-child=0"}, "unshare: unknown signal: 0\n"},
		{[]string{"--kill-child=SIGFOO"}, "unshare: unknown signal: SIGFOO\n"},
		{[]string{"--ready-fd", "-1"}, "unshare: invalid file descriptor: '-1'\n"},
		{[]string{"--json-status-fd", "x"}, "unshare: invalid file descriptor: 'x'\n"},
		{[]string{"--map-users", "1:2"}, "unshare: could not parse ID: '1:2'\n"},
		{[]string{"--map-groups=0:1:0"}, "unshare: could not parse ID: '0:1:0'\n"},
		{[]string{"--owner", "1:"}, "unshare: failed to parse owner\n"},
		{[]string{"--bogus", "-S", "abc"}, "unshare: unrecognized option '--bogus'" + try},
		{[]string{"-S"}, "unshare: option requires an argument -- 'S'" + try},
		{[]string{"-nFILE"}, "unshare: invalid option -- 'F'" + try},
		{[]string{"--fork=1"}, "unshare: option '--fork' doesn't allow an argument" + try},
		{[]string{"--fo"}, "unshare: option '--fo' is ambiguous; possibilities: '--fork' '--forward-signals'" + try},
	}
	for _, tc := range tests {
		p, err := planOf(t, tc.args...)
		if err == nil {
			t.Errorf("unshare %q: no error, plan %s", tc.args, describe(p))
			continue
		}
		msg, code := applet.Status("unshare", err)
		if msg != tc.err || code != 1 {
			t.Errorf("unshare %q: %d %q, want 1 %q", tc.args, code, msg, tc.err)
		}
	}
}

// TestPlanSubids: --map-auto and --map-subids take the caller's first
// block of subordinate ids, by name or by uid, in each file.
func TestPlanSubids(t *testing.T) {
	dir := t.TempDir()
	uid := os.Getuid()
	files := map[*string]string{
		&idmap.PasswdFile: fmt.Sprintf("someone:x:%d:%d::/home/someone:/bin/sh\n", uid, os.Getgid()),
		&idmap.SubUIDFile: "other:1:5\nsomeone:100000:65536\nsomeone:300000:10\n",
		&idmap.SubGIDFile: fmt.Sprintf("%d:200000:1000\n", uid),
	}
	for v, content := range files {
		old := *v
		*v = filepath.Join(dir, filepath.Base(old))
		t.Cleanup(func() { *v = old })
		if err := os.WriteFile(*v, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []planCase{
		{[]string{"--map-auto", "id"}, `ns=user ranges=0:100000:65536/0:200000:1000 exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"--map-subids", "id"}, `ns=user ranges=100000:100000:65536/200000:200000:1000 exec=id["id"] route=inPlace purego=forkStage`},
		{[]string{"--map-users=auto", "id"}, `ns=user ranges=0:100000:65536/ exec=id["id"] route=inPlace purego=forkStage`},
		// -r takes id 0 and the block gives up its topmost id.
		{[]string{"--map-auto", "-r", "id"},
			`ns=user ranges=0:1000:1,1:100000:65535/0:1001:1,1:200000:999 exec=id["id"] route=inPlace purego=forkStage`},
	}
	checkPlans(t, tests)
	if err := os.WriteFile(idmap.SubGIDFile, []byte("other:1:5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := planOf(t, "--map-auto", "id")
	want := fmt.Sprintf("unshare: no line matching user \"someone\" in %s\n", idmap.SubGIDFile)
	if msg, code := applet.Status("unshare", err); msg != want || code != 1 {
		t.Errorf("--map-auto without subordinate gids: %d %q, want 1 %q", code, msg, want)
	}
}

// TestStage: what each route's stage does itself, and what it leaves to
// this process (the clone, the maps of a forked child).
func TestStage(t *testing.T) {
	tests := []struct {
		args []string
		r    route
		want string
	}{
		{[]string{"-m", "--net=/n", "true"}, inProcess, "unshare=mnt,net pins=[{net /n}]"},
		{[]string{"-r", "--net=/n", "true"}, inPlace, "unshare=net,user pins=[{net /n}] uid=0:1000 gid=0:1001"},
		// The map helper writes setgroups, before the gid map.
		{[]string{"--map-users=0:1:1", "--map-group=0", "true"}, inPlace, "unshare=user"},
		{[]string{"--setgroups=deny", "-U", "true"}, inPlace, "unshare=user setgroups=deny"},
		{[]string{"-fpu", "true"}, forkDirect, "unshare=pid,uts"},
		// The child is cloned into all but the time namespace, which it
		// makes itself; with a user namespace it drops the capabilities
		// raised for it, and this process writes setgroups.
		{[]string{"-rfT", "--net=/n", "--setgroups=deny", "true"}, forkStage, "clone=net,user unshare=time clearambient"},
		{[]string{"-f", "--setgroups=deny", "-m", "true"}, forkStage, "clone=mnt setgroups=deny"},
		// The status object is written by the stage that makes the
		// namespaces, or for a forked child by this process.
		{[]string{"-u", "--json-status-fd", "5", "true"}, inProcess, "unshare=uts status=5"},
		{[]string{"-U", "--json-status-fd", "5", "true"}, inPlace, "unshare=user status=5"},
		{[]string{"-fu", "--json-status-fd", "5", "true"}, forkStage, "clone=uts"},
	}
	for _, tc := range tests {
		p, err := planOf(t, tc.args...)
		if err != nil {
			t.Fatalf("unshare %q: %v", tc.args, err)
		}
		if r := p.route(true); r != tc.r {
			t.Errorf("unshare %q: route %s, want %s", tc.args, r, tc.r)
			continue
		}
		before := describe(p)
		s, clone := p.stage(tc.r)
		var w []string
		if clone != 0 {
			w = append(w, "clone="+nsNames(clone))
		}
		if s.Unshare != 0 {
			w = append(w, "unshare="+nsNames(s.Unshare))
		}
		if len(s.Pins) > 0 {
			w = append(w, fmt.Sprintf("pins=%v", s.Pins))
		}
		if s.UIDMap != nil {
			w = append(w, fmt.Sprintf("uid=%d:%d", s.UIDMap.Inside, s.UIDMap.Outside))
		}
		if s.GIDMap != nil {
			w = append(w, fmt.Sprintf("gid=%d:%d", s.GIDMap.Inside, s.GIDMap.Outside))
		}
		if s.Setgroups != "" {
			w = append(w, "setgroups="+s.Setgroups)
		}
		if s.ClearAmbient {
			w = append(w, "clearambient")
		}
		if s.StatusFd >= 0 {
			w = append(w, fmt.Sprintf("status=%d", s.StatusFd))
		}
		if got := strings.Join(w, " "); got != tc.want {
			t.Errorf("unshare %q: stage %s, want %s", tc.args, got, tc.want)
		}
		if after := describe(p); after != before {
			t.Errorf("unshare %q: stage changed the plan to %s", tc.args, after)
		}
	}
}
