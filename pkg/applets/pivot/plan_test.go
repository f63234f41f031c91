package pivot

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/rootfs"
)

// These tests read command lines into options, and options and facts into
// plans, without mounting anything: no root, no namespace.

func optionsOf(args ...string) (*options, error) {
	e := &applet.Env{Name: "pivot", Args: args, Stdout: io.Discard, Stderr: io.Discard}
	o, _, err := parseOptions(e)
	return o, err
}

func mustOptions(t *testing.T, args ...string) *options {
	t.Helper()
	o, err := optionsOf(args...)
	if err != nil {
		t.Fatalf("pivot %q: %v", args, err)
	}
	return o
}

// describeOptions spells every option that differs from the defaults.
func describeOptions(o *options) string {
	var w []string
	add := func(format string, a ...any) { w = append(w, fmt.Sprintf(format, a...)) }
	var omit []string
	for name := range o.spec.Omit {
		omit = append(omit, name)
	}
	sort.Strings(omit)
	if len(omit) > 0 {
		add("omit=%s", strings.Join(omit, ","))
	}
	if o.spec.Sys != rootfs.SysAuto {
		add("sys=%s", map[rootfs.SysMode]string{rootfs.SysNew: "new", rootfs.SysHost: "host"}[o.spec.Sys])
	}
	if o.spec.Dev != rootfs.DevMinimal {
		add("dev=host")
	}
	if o.spec.ProcOpts != "" {
		add("proc-opts=%s", o.spec.ProcOpts)
	}
	for _, m := range o.spec.User {
		add("[%d %s %s %q]", m.Kind, m.Src, m.Dst, m.Opt)
	}
	if o.spec.ReadOnly {
		add("ro")
	}
	if o.spec.Seed {
		add("seed")
	}
	if o.propagation != unix.MS_PRIVATE {
		add("slave")
	}
	if o.how != auto {
		add("how=%d", o.how)
	}
	if o.force {
		add("force")
	}
	if o.verbose {
		add("verbose")
	}
	add("%s %q", o.newroot, o.argv)
	return strings.Join(w, " ")
}

func TestParseOptions(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"r"}, `r ["/bin/sh"]`},
		{[]string{"r", "ls", "-l"}, `r ["ls" "-l"]`},
		{[]string{"--", "-r", "-v"}, `-r ["-v"]`},
		{[]string{"--no-proc", "--no-mqueue", "--no-run", "r"}, `omit=mqueue,proc,run r ["/bin/sh"]`},
		{[]string{"--sys", "new", "--dev=host", "--proc-opts", "hidepid=2", "r"}, `sys=new dev=host proc-opts=hidepid=2 r ["/bin/sh"]`},
		{[]string{"--sys=host", "--sys", "auto", "r"}, `r ["/bin/sh"]`},
		{[]string{"--ro", "--seed", "--propagation", "slave", "-fv", "r"}, `ro seed slave force verbose r ["/bin/sh"]`},
		{[]string{"--chroot", "r"}, `how=1 r ["/bin/sh"]`},
		{[]string{"--move", "r"}, `how=2 r ["/bin/sh"]`},
		// The caller's mounts, in the order given across the options;
		// a source is made absolute, a destination defaults to it.
		{[]string{"--tmpfs", "/t", "--bind", "/a:/b", "--ro-bind", "rel", "--bind", "/c", "r"},
			`[2  /t "--tmpfs /t"] [0 /a /b "--bind /a:/b"] [1 ` + filepath.Join(wd, "rel") + ` rel "--ro-bind rel"] [0 /c /c "--bind /c"] r ["/bin/sh"]`},
	}
	for _, tc := range tests {
		o, err := optionsOf(tc.args...)
		if err != nil {
			t.Errorf("pivot %q: %v", tc.args, err)
			continue
		}
		if got := describeOptions(o); got != tc.want {
			t.Errorf("pivot %q\n got: %s\nwant: %s", tc.args, got, tc.want)
		}
	}
}

func TestParseOptionsErrors(t *testing.T) {
	try := "\nTry 'pivot --help' for more information.\n"
	tests := []struct {
		args []string
		err  string
	}{
		{nil, "pivot: no new root specified" + try},
		{[]string{"-v"}, "pivot: no new root specified" + try},
		{[]string{"--bogus", "r"}, "pivot: unrecognized option '--bogus'" + try},
		{[]string{"--bind"}, "pivot: option '--bind' requires an argument" + try},
		{[]string{"--chroot", "--move", "r"}, "pivot: mutually exclusive arguments: --chroot --move\n"},
		{[]string{"--seed", "--dev", "minimal", "r"}, "pivot: --seed makes the seed recipe's mounts: --sys, --dev and --proc-opts do not apply\n"},
		{[]string{"--proc-opts=", "--seed", "r"}, "pivot: --seed makes the seed recipe's mounts: --sys, --dev and --proc-opts do not apply\n"},
		// A bad value is reported as it is read, before a missing root.
		{[]string{"--sys", "bogus"}, "pivot: unsupported --sys mode: bogus\n"},
		{[]string{"--dev", "Host", "r"}, "pivot: unsupported --dev mode: Host\n"},
		{[]string{"--propagation", "shared", "r"}, "pivot: unsupported propagation mode: shared\n"},
		{[]string{"--bind", ":/x", "r"}, "pivot: --bind :/x: empty source\n"},
		{[]string{"--ro-bind", "/a:", "r"}, "pivot: --ro-bind /a:: empty destination\n"},
		{[]string{"--tmpfs", ""}, "pivot: --tmpfs : empty destination\n"},
		{[]string{"--tmpfs", "a/../../x", "r"}, "pivot: --tmpfs a/../../x: destination escapes the new root: a/../../x leads out of the new root\n"},
		{[]string{"--bind", "/etc:/", "r"}, "pivot: --bind /etc:/: destination is the new root itself\n"},
	}
	for _, tc := range tests {
		o, err := optionsOf(tc.args...)
		if err == nil {
			t.Errorf("pivot %q: no error, options %s", tc.args, describeOptions(o))
			continue
		}
		msg, code := applet.Status("pivot", err)
		if msg != tc.err || code != 1 {
			t.Errorf("pivot %q: %d %q, want 1 %q", tc.args, code, msg, tc.err)
		}
	}
}

// container is the facts of a container's namespaces (unshare -rmpfni),
// where every mount of the plan is possible.
func container() facts {
	return facts{
		newroot: "/new",
		ns:      &rootfs.NsFacts{SelfMnt: 4026532300, Pid1Pid: 4026532301, Pid1Mnt: 4026532300},
		mounts:  rootfs.Facts{PidOwned: true, NetOwned: true, IPCOwned: true},
		root:    rootfs.RootFacts{RootIsMount: true, RootHasParent: true, NewIsMount: true},
	}
}

func targets(steps []rootfs.Step) string {
	var s []string
	for _, st := range steps {
		s = append(s, st.Target)
	}
	return strings.Join(s, " ")
}

func TestPlan(t *testing.T) {
	all := "/proc /sys /dev /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/pts /dev/shm /dev/mqueue " +
		"/dev/fd /dev/stdin /dev/stdout /dev/stderr /dev/ptmx /tmp /run"
	notPid := container()
	notPid.mounts.PidOwned = false
	tests := []struct {
		args []string
		f    facts
		want string
	}{
		{[]string{"r"}, container(), "/new private " + all + ` ["/bin/sh"]`},
		{[]string{"--propagation=slave", "--ro", "--move", "r", "true"}, container(), "/new slave " + all + ` ro how=2 ["true"]`},
		{[]string{"--no-dev", "--no-devpts", "--no-shm", "--no-mqueue", "--tmpfs", "/x", "r"}, container(), `/new private /proc /sys /tmp /run /x ["/bin/sh"]`},
		// proc needs a pid namespace this user namespace owns, unless
		// left out.
		{[]string{"--no-proc", "--no-dev", "r"}, notPid, `/new private /sys /dev/pts /dev/shm /dev/mqueue /tmp /run ["/bin/sh"]`},
		{[]string{"--seed", "r"}, container(), `/new private /proc /sys /tmp /dev /dev/pts /dev/shm /run ["/bin/sh"]`},
	}
	for _, tc := range tests {
		p, err := mustOptions(t, tc.args...).plan(tc.f)
		if err != nil {
			t.Errorf("pivot %q: %v", tc.args, err)
			continue
		}
		got := fmt.Sprintf("%s %s %s", p.newroot, map[uintptr]string{unix.MS_PRIVATE: "private", unix.MS_SLAVE: "slave"}[p.propagation], targets(p.steps))
		if p.readOnly {
			got += " ro"
		}
		if p.how != auto {
			got += fmt.Sprintf(" how=%d", p.how)
		}
		got += fmt.Sprintf(" %q", p.argv)
		if got != tc.want {
			t.Errorf("pivot %q\n got: %s\nwant: %s", tc.args, got, tc.want)
		}
	}
}

// TestPlanRefusals: what pivot refuses from the facts, before anything
// is mounted, in this order.
func TestPlanRefusals(t *testing.T) {
	host := container()
	host.ns = &rootfs.NsFacts{SelfMnt: 4026531840, Pid1Pid: rootfs.InitPidIno, Pid1Mnt: 4026531840}
	host.root.NewIsRoot = true
	notPid := container()
	notPid.mounts.PidOwned = false
	notPid.root.RootIsMount = false
	isRoot := container()
	isRoot.root.NewIsRoot, isRoot.root.RootIsMount = true, false
	chrooted := container()
	chrooted.root.RootIsMount = false
	tests := []struct {
		name string
		f    facts
		err  string
	}{
		{"host", host, "pivot: refusing to run in the host's initial mount namespace (it is the mount namespace of PID 1, the host's init): " +
			"the mounts and the root switch would happen to the host itself; run pivot in a new one (unshare -m), or --force (in an initramfs, as switch_root)\n"},
		{"pid namespace not owned", notPid, "pivot: cannot mount proc: the pid namespace is not owned by this user namespace " +
			"(unshare -p -f with -U, so that the user namespace owns it, or --no-proc)\n"},
		{"new root is /", isRoot, "pivot: /new: the new root is the current root\n"},
		{"chrooted", chrooted, "pivot: cannot switch the root from here: the current root is not a mount point: " +
			"this process is chrooted into a directory, and pivot_root only moves mounts (cause 5)\n"},
	}
	o := mustOptions(t, "r")
	for _, tc := range tests {
		_, err := o.plan(tc.f)
		if msg, code := applet.Status("pivot", err); msg != tc.err || code != 1 {
			t.Errorf("%s: %d %q, want 1 %q", tc.name, code, msg, tc.err)
		}
	}
	// --force: the namespace is not looked at (gather leaves ns nil).
	forced := container()
	forced.ns = nil
	if _, err := mustOptions(t, "-f", "r").plan(forced); err != nil {
		t.Errorf("pivot -f: %v", err)
	}
}

func TestSwitchMethod(t *testing.T) {
	mounted := rootfs.RootFacts{RootIsMount: true, RootHasParent: true, NewIsMount: true}
	initramfs := rootfs.RootFacts{RootIsMount: true, RootFSType: "rootfs", NewIsMount: true}
	tests := []struct {
		h      how
		rf     rootfs.RootFacts
		method rootfs.Method
		why    string
	}{
		{auto, mounted, rootfs.PivotRoot, `switching with pivot_root(".", ".") and a lazy unmount of the old root`},
		{auto, initramfs, rootfs.MoveChroot, "the current root is the mount namespace's first mount (rootfs, the initramfs): pivot_root cannot move it, switching with MS_MOVE + chroot"},
		{byChroot, initramfs, rootfs.Chroot, "switching with chroot (the old root stays mounted beneath)"},
		{byMove, mounted, rootfs.MoveChroot, "switching with MS_MOVE + chroot, as asked (the old root stays mounted beneath)"},
	}
	for _, tc := range tests {
		m, why := switchMethod(tc.h, tc.rf)
		if m != tc.method || why != tc.why {
			t.Errorf("switchMethod(%d, %+v) = %s, %q; want %s, %q", tc.h, tc.rf, m, why, tc.method, tc.why)
		}
	}
}
