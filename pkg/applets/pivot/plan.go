package pivot

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/rootfs"
)

// facts are what the plan depends on besides the options: the new root,
// opened once, the caller's namespaces and the mounts around the new
// root.
type facts struct {
	dir     *rootfs.Root    // the new root, opened (nil in the unit tests)
	newroot string          // its path, for messages
	ns      *rootfs.NsFacts // nil with --force: not looked at
	mounts  rootfs.Facts
	root    rootfs.RootFacts
}

// gather opens the new root, the one lookup of its name (every later step
// goes through the descriptor), and reads the facts for o. The root is
// closed again on an error.
func gather(o *options) (facts, error) {
	if o.newroot == "" {
		return facts{}, applet.Errorf("empty new root")
	}
	dir, err := rootfs.OpenRoot(o.newroot)
	if err != nil {
		return facts{}, failure(err)
	}
	f := facts{dir: dir, newroot: dir.Path}
	if !o.force {
		nf, err := rootfs.GatherNsFacts()
		if err != nil {
			dir.Close()
			return f, applet.Errorf("cannot tell whether this is the host's mount namespace: %s (mount /proc, or --force)", applet.Message(err))
		}
		f.ns = &nf
	}
	f.mounts = rootfs.GatherFacts()
	f.root = dir.Facts()
	return f, nil
}

// plan is what pivot does, decided before anything is mounted.
type plan struct {
	dir         *rootfs.Root // the new root, opened
	newroot     string       // its path, for messages
	propagation uintptr
	steps       []rootfs.Step
	readOnly    bool // remount newroot's own mount read-only after the steps
	how         how
	argv        []string
}

// plan decides what o asks for, given the facts: it refuses the host's
// initial mount namespace (without --force), a proc that this user
// namespace may not mount, and a root switch that cannot work from here.
func (o *options) plan(f facts) (*plan, error) {
	if f.ns != nil {
		if initial, why := rootfs.InitialMountNS(*f.ns); initial {
			return nil, applet.Errorf("refusing to run in the host's initial mount namespace (%s): "+
				"the mounts and the root switch would happen to the host itself; run pivot in a new one "+
				"(unshare -m), or --force (in an initramfs, as switch_root)", why)
		}
	}
	if !o.spec.Omit[rootfs.Proc] && !f.mounts.PidOwned {
		return nil, applet.Errorf("cannot mount proc: the pid namespace is not owned by this user namespace " +
			"(unshare -p -f with -U, so that the user namespace owns it, or --no-proc)")
	}
	if f.root.NewIsRoot {
		return nil, applet.Errorf("%s: the new root is the current root", f.newroot)
	}
	if !f.root.RootIsMount {
		// Neither "/" can be made private nor pivot_root succeed: say
		// why now, before anything is mounted.
		return nil, applet.Errorf("cannot switch the root from here: %s", rootfs.Explain(unix.EINVAL, f.root))
	}
	return &plan{dir: f.dir, newroot: f.newroot, propagation: o.propagation, steps: rootfs.Plan(o.spec, f.mounts),
		readOnly: o.spec.ReadOnly, how: o.how, argv: o.argv}, nil
}

// switchMethod chooses how to switch the root, and says why (--verbose).
func switchMethod(h how, rf rootfs.RootFacts) (rootfs.Method, string) {
	switch {
	case h == byChroot:
		return rootfs.Chroot, "switching with chroot (the old root stays mounted beneath)"
	case h == byMove:
		return rootfs.MoveChroot, "switching with MS_MOVE + chroot, as asked (the old root stays mounted beneath)"
	case rootfs.Decide(rf) == rootfs.MoveChroot:
		return rootfs.MoveChroot, fmt.Sprintf("the current root is the mount namespace's first mount (%s, the initramfs): pivot_root cannot move it, switching with MS_MOVE + chroot", rf.RootFSType)
	}
	return rootfs.PivotRoot, "switching with pivot_root(\".\", \".\") and a lazy unmount of the old root"
}
