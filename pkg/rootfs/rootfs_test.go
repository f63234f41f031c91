package rootfs

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func targets(steps []Step) string {
	var s []string
	for _, st := range steps {
		t := st.Target
		switch {
		case st.Skip:
			t = "-" + t
		case st.Op == OpSymlink:
			t = "@" + t
		case st.Fallback != nil:
			t = t + "?"
		}
		s = append(s, t)
	}
	return strings.Join(s, " ")
}

var owned = Facts{PidOwned: true, NetOwned: true, IPCOwned: true}

func TestPlanDefault(t *testing.T) {
	got := targets(Plan(Spec{}, owned))
	want := "/proc /sys? /dev /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/pts /dev/shm /dev/mqueue " +
		"@/dev/fd @/dev/stdin @/dev/stdout @/dev/stderr @/dev/ptmx /tmp /run"
	if got != want {
		t.Errorf("default plan:\n got %s\nwant %s", got, want)
	}
	for _, s := range Plan(Spec{}, owned) {
		if s.Op == OpFS && s.Attr&unix.MOUNT_ATTR_NOSUID == 0 {
			t.Errorf("%s: not nosuid", s)
		}
		if s.Target == "/sys" && (s.Attr&unix.MOUNT_ATTR_RDONLY == 0 || s.Fallback.Attr&unix.MOUNT_ATTR_RDONLY == 0) {
			t.Errorf("/sys not read-only: %s / %s", s, s.Fallback)
		}
		if s.IfExists {
			t.Errorf("%s: IfExists in the minimal /dev", s)
		}
	}
}

func TestPlanNotOwned(t *testing.T) {
	steps := Plan(Spec{}, Facts{PidOwned: true})
	got := targets(steps)
	if !strings.HasPrefix(got, "/proc /sys /dev ") || !strings.Contains(got, " -/dev/mqueue ") {
		t.Fatalf("plan without the net and IPC namespaces: %s", got)
	}
	sys := steps[1]
	if sys.Op != OpBind || sys.Source != "/sys" || sys.Attr != unix.MOUNT_ATTR_RDONLY || !strings.Contains(sys.Note, "not owned") {
		t.Errorf("/sys step: %+v", sys)
	}
}

func TestPlanOptions(t *testing.T) {
	spec := Spec{
		Omit: map[string]bool{Sys: true, Devpts: true, Mqueue: true, Run: true},
		Dev:  DevMinimal, ProcOpts: "hidepid=2,,subset=pid",
		User: []UserMount{
			{Kind: KindTmpfs, Dst: "mnt//a/", Opt: "--tmpfs mnt//a/"},
			{Kind: KindBind, Src: "/srv", Dst: "/mnt/a/b", Opt: "--bind /srv:/mnt/a/b"},
			{Kind: KindROBind, Src: "/usr", Dst: "/usr", Opt: "--ro-bind /usr"},
		},
	}
	steps := Plan(spec, owned)
	got := targets(steps)
	want := "/proc /dev /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/shm " +
		"@/dev/fd @/dev/stdin @/dev/stdout @/dev/stderr /tmp /mnt/a /mnt/a/b /usr"
	if got != want {
		t.Errorf("plan:\n got %s\nwant %s", got, want)
	}
	if o := strings.Join(steps[0].Opts, " "); o != "hidepid=2 subset=pid" {
		t.Errorf("proc options %q", o)
	}
	last := steps[len(steps)-1]
	if !last.User || last.Attr != unix.MOUNT_ATTR_RDONLY || last.Name != "--ro-bind /usr" {
		t.Errorf("ro-bind step %+v", last)
	}
	if !Covered(steps, len(steps)-2) || Covered(steps, len(steps)-3) || Covered(steps, 0) {
		t.Errorf("Covered: /mnt/a/b is under /mnt/a, /mnt/a and /proc under nothing")
	}
}

func TestPlanDevHost(t *testing.T) {
	steps := Plan(Spec{Dev: DevHost}, owned)
	got := targets(steps)
	if want := "/proc /sys? /dev /dev/pts /dev/shm /dev/mqueue /tmp /run"; got != want {
		t.Errorf("plan:\n got %s\nwant %s", got, want)
	}
	for _, s := range steps[3:6] {
		if !s.IfExists {
			t.Errorf("%s: would be created in the host's devtmpfs", s.Target)
		}
	}
	if steps[2].FSType != "devtmpfs" {
		t.Errorf("/dev: %s", steps[2])
	}
}

// The seed recipe: its mounts, sources and order, no flags, no options.
func TestPlanSeed(t *testing.T) {
	var got []string
	for _, s := range Plan(Spec{Seed: true, User: []UserMount{{Kind: KindTmpfs, Dst: "/x", Opt: "--tmpfs /x"}}}, Facts{}) {
		if s.Attr != 0 && !s.User || len(s.Opts) > 0 && !s.User {
			t.Errorf("%s: flags or options", s)
		}
		got = append(got, s.String())
	}
	want := []string{
		"proc on /proc type proc", "sysfs on /sys type sysfs", "none on /tmp type tmpfs",
		"udev on /dev type devtmpfs", "devpts on /dev/pts type devpts", "shm on /dev/shm type tmpfs",
		"tmpfs on /run type tmpfs", "tmpfs on /x type tmpfs (nosuid,nodev,mode=755)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("seed plan:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := targets(Plan(Spec{Seed: true, Omit: map[string]bool{Sys: true, Dev: true}}, Facts{})); got != "/proc /tmp /dev/pts /dev/shm /run" {
		t.Errorf("seed without sys and dev: %s", got)
	}
}

func TestStepString(t *testing.T) {
	for _, c := range []struct {
		s    Step
		want string
	}{
		{Step{Op: OpFS, FSType: "proc", Source: "proc", Target: "/proc", Attr: nosuid | nodev | noexec, Opts: []string{"hidepid=2"}},
			"proc on /proc type proc (nosuid,nodev,noexec,hidepid=2)"},
		{Step{Op: OpBind, Source: "/sys", Target: "/sys", Attr: rdonly}, "/sys on /sys (bind) (ro)"},
		{Step{Op: OpSymlink, Source: "/proc/self/fd", Target: "/dev/fd"}, "/dev/fd -> /proc/self/fd"},
	} {
		if got := c.s.String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestEscapes(t *testing.T) {
	for dst, want := range map[string]bool{
		"/etc": false, "etc": false, "a/../b": false, "./a/./..": false, "/a/b/../../c": false,
		"..": true, "../x": true, "/../x": true, "/a/../../x": true, "a/b/../../../x": true, "/./..": true,
	} {
		if got := Escapes(dst); got != want {
			t.Errorf("Escapes(%q) = %v, want %v", dst, got, want)
		}
	}
	for dst, want := range map[string]string{"dev/x": "/dev/x", "/dev/x/": "/dev/x", "//a//b": "/a/b", "/": "/", "a/..": "/"} {
		if got := Clean(dst); got != want {
			t.Errorf("Clean(%q) = %q, want %q", dst, got, want)
		}
	}
}

func TestInitialMountNS(t *testing.T) {
	const dyn = FirstDynamicIno + 500
	for _, c := range []struct {
		name string
		f    NsFacts
		want bool
	}{
		{"fixed number", NsFacts{SelfMnt: InitMntIno}, true},
		{"fixed number, PID 1 unreadable", NsFacts{SelfMnt: InitMntIno, Pid1Pid: 0}, true},
		{"new namespace on a fixed-number kernel, PID 1 unreadable", NsFacts{SelfMnt: dyn}, false},
		{"host init visible, same", NsFacts{SelfMnt: FirstDynamicIno + 7, Pid1Pid: InitPidIno, Pid1Mnt: FirstDynamicIno + 7}, true},
		{"host init visible, other", NsFacts{SelfMnt: dyn, Pid1Pid: InitPidIno, Pid1Mnt: FirstDynamicIno}, false},
		{"host init visible, first number but other", NsFacts{SelfMnt: FirstDynamicIno, Pid1Pid: InitPidIno, Pid1Mnt: dyn}, false},
		// /proc of a new pid namespace: PID 1 is the container's init,
		// in the caller's own (new) mount namespace.
		{"container's /proc, PID 1 in the same namespace", NsFacts{SelfMnt: dyn, Pid1Pid: dyn + 1, Pid1Mnt: dyn}, false},
		{"container's /proc, old kernel, initial number", NsFacts{SelfMnt: FirstDynamicIno, Pid1Pid: dyn + 1, Pid1Mnt: FirstDynamicIno}, true},
		{"old kernel, PID 1 unreadable, initial number", NsFacts{SelfMnt: FirstDynamicIno}, true},
	} {
		got, why := InitialMountNS(c.f)
		if got != c.want || why == "" {
			t.Errorf("%s: got %v (%s), want %v", c.name, got, why, c.want)
		}
	}
}

func TestDecideAndExplain(t *testing.T) {
	normal := RootFacts{RootIsMount: true, RootHasParent: true, NewIsMount: true, RootFSType: "ext4"}
	initramfs := normal
	initramfs.RootHasParent, initramfs.RootFSType = false, "rootfs"
	chrooted := normal
	chrooted.RootIsMount = false
	if Decide(normal) != PivotRoot || Decide(initramfs) != MoveChroot || Decide(chrooted) != PivotRoot {
		t.Errorf("Decide: normal %v, initramfs %v, chrooted %v", Decide(normal), Decide(initramfs), Decide(chrooted))
	}
	notMount := normal
	notMount.NewIsMount = false
	shared := normal
	shared.NewShared = true
	parentShared := normal
	parentShared.ParentShared = true
	isRoot := normal
	isRoot.NewIsRoot = true
	for _, c := range []struct {
		err  error
		f    RootFacts
		want string
	}{
		{unix.EINVAL, chrooted, "cause 5"},
		{unix.EINVAL, initramfs, "cause 6: the initramfs rootfs"},
		{unix.EINVAL, initramfs, "(rootfs)"},
		{unix.EINVAL, notMount, "cause 1"},
		{unix.EINVAL, shared, "new root's mount is shared (cause 3"},
		{unix.EINVAL, parentShared, "mount under the new root is shared (cause 3"},
		{unix.EINVAL, normal, "none of pivot_root(2)'s EINVAL conditions"},
		{unix.EBUSY, isRoot, "already the root directory"},
		{unix.EBUSY, normal, "on the current root's mount"},
		{unix.EPERM, normal, "CAP_SYS_ADMIN"},
		{unix.ENOENT, normal, ""},
	} {
		got := Explain(c.err, c.f)
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("Explain(%v, %+v) = %q, want it to say %q", c.err, c.f, got, c.want)
		}
	}
	e := &Error{What: "pivot_root /r", Err: unix.EINVAL, Why: Explain(unix.EINVAL, chrooted)}
	if !errors.Is(e, unix.EINVAL) || !strings.HasPrefix(e.Error(), "pivot_root /r: Invalid argument: the current root is not a mount point") {
		t.Errorf("Error: %q", e.Error())
	}
}
