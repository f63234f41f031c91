// Package rootfs builds a container's root filesystem in a directory and
// switches the calling process into it: /proc, /sys, a small /dev with its
// own devpts, /dev/shm, mqueue, /tmp and /run, the caller's bind and tmpfs
// mounts, then pivot_root(".", ".") and a lazy unmount of the old root (or
// MS_MOVE + chroot where the current root is the initramfs rootfs).
//
// It is meant to run inside a private mount namespace (the pivot applet
// refuses the host's initial one). The new root is looked up once, by
// OpenRoot; its facts, its bind onto itself and the root switch go through
// that descriptor. Every mount point is resolved inside the new root with
// openat2(RESOLVE_BENEATH), so a symbolic link or ".." in the new root
// never leads a mount outside it (nor onto the root itself), and every
// filesystem is mounted with the new mount API (fsopen, fsmount,
// open_tree, move_mount) onto the file descriptor so resolved: no path is
// looked up twice.
//
// The work is split so that most of it is testable without root: Plan
// turns a Spec (what to mount) and Facts (which namespaces the caller may
// mount proc, sysfs and mqueue for) into a list of Steps; Check validates a
// plan against the new root before anything is mounted; Apply performs it;
// Switch changes the root. Decide, InitialMountNS and Explain are the pure
// decisions behind the root switch and its error messages.
package rootfs

import (
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// The standard mounts, by the names the pivot applet's --no-NAME options
// use, in the order they are made.
const (
	Proc   = "proc"
	Sys    = "sys"
	Dev    = "dev"
	Devpts = "devpts"
	Shm    = "shm"
	Mqueue = "mqueue"
	Tmp    = "tmp"
	Run    = "run"
)

// Standard lists the standard mounts in the order they are made.
var Standard = []string{Proc, Sys, Dev, Devpts, Shm, Mqueue, Tmp, Run}

// SysMode says what /sys becomes.
type SysMode int

const (
	// SysAuto is a fresh read-only sysfs where the caller may mount one
	// (its user namespace owns the network namespace), else a read-only
	// recursive bind of the host's /sys, with a note.
	SysAuto SysMode = iota
	SysNew          // a fresh read-only sysfs, or fail
	SysHost         // a read-only recursive bind of the current /sys
)

// DevMode says what /dev becomes.
type DevMode int

const (
	// DevMinimal is a tmpfs holding binds of the host's null, zero, full,
	// random, urandom and tty, the /dev/fd and std* links, /dev/ptmx.
	DevMinimal DevMode = iota
	// DevHost is the kernel's devtmpfs: every device of the host.
	DevHost
)

// BindKind is the kind of a caller's mount.
type BindKind int

const (
	KindBind   BindKind = iota // --bind SRC:DST
	KindROBind                 // --ro-bind SRC:DST
	KindTmpfs                  // --tmpfs DST
)

// UserMount is one --bind, --ro-bind or --tmpfs.
type UserMount struct {
	Kind BindKind
	Src  string // host path (binds)
	Dst  string // path in the new root
	Opt  string // the option as given, for messages: "--bind /a:/b"
}

// Spec is what to build.
type Spec struct {
	Omit     map[string]bool // standard mounts left out (Proc, Sys...)
	ProcOpts string          // comma-separated proc options (hidepid=, subset=)
	Sys      SysMode
	Dev      DevMode
	User     []UserMount
	ReadOnly bool // remount the new root's own mount read-only at the end
	// Seed reproduces the seed recipe's mount set exactly (proc, sysfs,
	// tmpfs /tmp, devtmpfs /dev, devpts, tmpfs /dev/shm, tmpfs /run, with
	// the recipe's sources, no flags and no options) instead of the
	// standard mounts; Omit still removes some.
	Seed bool
}

// Facts are what the plan depends on in the caller's namespaces: whether
// its user namespace may mount a fresh proc (it owns, or is an ancestor of
// the owner of, the pid namespace), sysfs (the network namespace) and
// mqueue (the IPC namespace).
type Facts struct {
	PidOwned, NetOwned, IPCOwned bool
}

// Op is what a step does.
type Op int

const (
	OpFS      Op = iota // a new filesystem instance
	OpBind              // a recursive bind of a host path
	OpSymlink           // a symbolic link in the new root
)

// Step is one mount or link of a plan.
type Step struct {
	Name   string // the standard mount's name, or the user option as given
	Op     Op
	FSType string   // OpFS
	Source string   // OpFS: the source; OpBind: the host path; OpSymlink: the link's target
	Target string   // absolute path in the new root
	Opts   []string // OpFS: filesystem options ("mode=755", "newinstance")
	Attr   uint64   // MOUNT_ATTR_* of the new mount
	File   bool     // the mount point is a file (a device node), not a directory
	// IfExists: the mount point must already exist and is never created
	// (under a devtmpfs, which is the host's own /dev); the step is left
	// out, with a note, when it does not.
	IfExists bool
	// Fallback replaces the step, with Note, when the kernel refuses it
	// with EPERM (sysfs in a user namespace that the kernel judges not
	// entitled to it).
	Fallback *Step
	// Note is said when this step is used in place of the one planned, or
	// when a planned mount is left out (Op is then irrelevant: see Skip).
	Note string
	Skip bool // a planned mount left out: only Note is said
	User bool // one of the caller's --bind, --ro-bind, --tmpfs
}

// Attributes, spelt as mount(8) spells them.
func attrString(a uint64) string {
	var s []string
	for _, x := range []struct {
		bit  uint64
		name string
	}{
		{unix.MOUNT_ATTR_RDONLY, "ro"}, {unix.MOUNT_ATTR_NOSUID, "nosuid"},
		{unix.MOUNT_ATTR_NODEV, "nodev"}, {unix.MOUNT_ATTR_NOEXEC, "noexec"},
		{unix.MOUNT_ATTR_STRICTATIME, "strictatime"},
	} {
		if a&x.bit != 0 {
			s = append(s, x.name)
		}
	}
	return strings.Join(s, ",")
}

// String describes the step as pivot --verbose says it:
// "proc on /proc type proc (nosuid,nodev,noexec)".
func (s Step) String() string {
	opts := attrString(s.Attr)
	if len(s.Opts) > 0 {
		if opts != "" {
			opts += ","
		}
		opts += strings.Join(s.Opts, ",")
	}
	var d string
	switch s.Op {
	case OpFS:
		d = fmt.Sprintf("%s on %s type %s", s.Source, s.Target, s.FSType)
	case OpBind:
		d = fmt.Sprintf("%s on %s (bind)", s.Source, s.Target)
	case OpSymlink:
		return fmt.Sprintf("%s -> %s", s.Target, s.Source)
	}
	if opts != "" {
		d += " (" + opts + ")"
	}
	return d
}

const (
	nosuid = unix.MOUNT_ATTR_NOSUID
	nodev  = unix.MOUNT_ATTR_NODEV
	noexec = unix.MOUNT_ATTR_NOEXEC
	rdonly = unix.MOUNT_ATTR_RDONLY
)

// DevNodes are the host devices the minimal /dev binds, as bubblewrap's
// --dev and runc's default device list have them.
var DevNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}

// DevLinks are the symbolic links of the minimal /dev.
var DevLinks = [][2]string{
	{"/dev/fd", "/proc/self/fd"},
	{"/dev/stdin", "/proc/self/fd/0"},
	{"/dev/stdout", "/proc/self/fd/1"},
	{"/dev/stderr", "/proc/self/fd/2"},
	{"/dev/ptmx", "pts/ptmx"},
}

// Plan returns the steps that build spec, in order: the standard mounts
// (or the seed recipe's), then the caller's mounts in the order given. The
// read-only remount and the root switch are not steps.
func Plan(spec Spec, f Facts) []Step {
	var steps []Step
	on := func(name string) bool { return !spec.Omit[name] }
	if spec.Seed {
		for _, s := range seedSteps() {
			if on(s.Name) {
				steps = append(steps, s)
			}
		}
		return append(steps, userSteps(spec.User)...)
	}
	if on(Proc) {
		steps = append(steps, Step{Name: Proc, Op: OpFS, FSType: "proc", Source: "proc", Target: "/proc",
			Opts: splitOpts(spec.ProcOpts), Attr: nosuid | nodev | noexec})
	}
	if on(Sys) {
		fresh := Step{Name: Sys, Op: OpFS, FSType: "sysfs", Source: "sysfs", Target: "/sys", Attr: rdonly | nosuid | nodev | noexec}
		host := Step{Name: Sys, Op: OpBind, Source: "/sys", Target: "/sys", Attr: rdonly}
		switch {
		case spec.Sys == SysNew:
			steps = append(steps, fresh)
		case spec.Sys == SysHost:
			steps = append(steps, host)
		case f.NetOwned:
			host.Note = "sysfs refused in this network namespace: /sys is a read-only bind of the host's /sys (--no-sys leaves it out)"
			fresh.Fallback = &host
			steps = append(steps, fresh)
		default:
			host.Note = "the network namespace is not owned by this user namespace, so sysfs cannot be mounted: /sys is a read-only bind of the host's /sys, which shows the host's network devices (unshare -n as well, or --no-sys)"
			steps = append(steps, host)
		}
	}
	host := spec.Dev == DevHost
	if on(Dev) {
		if host {
			steps = append(steps, Step{Name: Dev, Op: OpFS, FSType: "devtmpfs", Source: "devtmpfs", Target: "/dev", Attr: nosuid | noexec})
		} else {
			steps = append(steps, Step{Name: Dev, Op: OpFS, FSType: "tmpfs", Source: "tmpfs", Target: "/dev",
				Opts: []string{"mode=755", "size=64k"}, Attr: nosuid | noexec | unix.MOUNT_ATTR_STRICTATIME})
			for _, n := range DevNodes {
				steps = append(steps, Step{Name: Dev, Op: OpBind, Source: "/dev/" + n, Target: "/dev/" + n, File: true})
			}
		}
	}
	// Under the host's devtmpfs nothing is created: it is the host's /dev.
	sub := on(Dev) && host
	if on(Devpts) {
		steps = append(steps, Step{Name: Devpts, Op: OpFS, FSType: "devpts", Source: "devpts", Target: "/dev/pts",
			Opts: []string{"newinstance", "ptmxmode=0666", "mode=620"}, Attr: nosuid | noexec, IfExists: sub})
	}
	if on(Shm) {
		steps = append(steps, Step{Name: Shm, Op: OpFS, FSType: "tmpfs", Source: "shm", Target: "/dev/shm",
			Opts: []string{"mode=1777"}, Attr: nosuid | nodev | noexec, IfExists: sub})
	}
	if on(Mqueue) {
		mq := Step{Name: Mqueue, Op: OpFS, FSType: "mqueue", Source: "mqueue", Target: "/dev/mqueue",
			Attr: nosuid | nodev | noexec, IfExists: sub}
		if !f.IPCOwned {
			mq = Step{Name: Mqueue, Skip: true, Target: "/dev/mqueue",
				Note: "the IPC namespace is not owned by this user namespace, so /dev/mqueue is left out (unshare -i as well, or --no-mqueue)"}
		}
		steps = append(steps, mq)
	}
	if on(Dev) && !host {
		for _, l := range DevLinks {
			if l[0] == "/dev/ptmx" && !on(Devpts) {
				continue
			}
			steps = append(steps, Step{Name: Dev, Op: OpSymlink, Source: l[1], Target: l[0]})
		}
	}
	if on(Tmp) {
		steps = append(steps, Step{Name: Tmp, Op: OpFS, FSType: "tmpfs", Source: "tmpfs", Target: "/tmp",
			Opts: []string{"mode=1777"}, Attr: nosuid | nodev})
	}
	if on(Run) {
		steps = append(steps, Step{Name: Run, Op: OpFS, FSType: "tmpfs", Source: "tmpfs", Target: "/run",
			Opts: []string{"mode=755"}, Attr: nosuid | nodev})
	}
	return append(steps, userSteps(spec.User)...)
}

// seedSteps is the seed recipe's mount set (shared/seed: the classic
// hand-rolled container), with its sources, no flags and no options. The
// recipe mounts devpts and shm onto directories it expects in the
// devtmpfs, which is the host's /dev: they are never created.
func seedSteps() []Step {
	return []Step{
		{Name: Proc, Op: OpFS, FSType: "proc", Source: "proc", Target: "/proc"},
		{Name: Sys, Op: OpFS, FSType: "sysfs", Source: "sysfs", Target: "/sys"},
		{Name: Tmp, Op: OpFS, FSType: "tmpfs", Source: "none", Target: "/tmp"},
		{Name: Dev, Op: OpFS, FSType: "devtmpfs", Source: "udev", Target: "/dev"},
		{Name: Devpts, Op: OpFS, FSType: "devpts", Source: "devpts", Target: "/dev/pts", IfExists: true},
		{Name: Shm, Op: OpFS, FSType: "tmpfs", Source: "shm", Target: "/dev/shm", IfExists: true},
		{Name: Run, Op: OpFS, FSType: "tmpfs", Source: "tmpfs", Target: "/run"},
	}
}

func userSteps(ms []UserMount) []Step {
	var steps []Step
	for _, m := range ms {
		dst := Clean(m.Dst)
		switch m.Kind {
		case KindBind:
			steps = append(steps, Step{Name: m.Opt, Op: OpBind, Source: m.Src, Target: dst, User: true})
		case KindROBind:
			steps = append(steps, Step{Name: m.Opt, Op: OpBind, Source: m.Src, Target: dst, Attr: rdonly, User: true})
		case KindTmpfs:
			steps = append(steps, Step{Name: m.Opt, Op: OpFS, FSType: "tmpfs", Source: "tmpfs", Target: dst,
				Opts: []string{"mode=755"}, Attr: nosuid | nodev, User: true})
		}
	}
	return steps
}

// splitOpts splits a comma-separated option string, dropping empty items.
func splitOpts(s string) []string {
	var o []string
	for _, x := range strings.Split(s, ",") {
		if x != "" {
			o = append(o, x)
		}
	}
	return o
}

// Clean is dst as an absolute, clean path in the new root ("dev/x" and
// "/dev/x/" are "/dev/x"). It does not resolve "..": see Escapes.
func Clean(dst string) string { return path.Clean("/" + dst) }

// Escapes reports whether dst, a destination in the new root, climbs out
// of it with "..", as "../etc" and "/a/../../etc" do. (path.Clean would
// quietly turn them into "/etc"; pivot refuses them instead.)
func Escapes(dst string) bool {
	depth := 0
	for _, c := range strings.Split(dst, "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// Covered reports whether target lies under the mount point of an earlier
// mount step of steps[:i] (it then does not exist in the new root's
// directory until that mount is made, and is not checked before).
func Covered(steps []Step, i int) bool {
	t := steps[i].Target
	for _, s := range steps[:i] {
		if s.Op == OpSymlink || s.Skip || s.File {
			continue
		}
		if s.Target == "/" || strings.HasPrefix(t, s.Target+"/") {
			return true
		}
	}
	return false
}
