// Package pivot is the pivot applet: from inside a container's mount
// namespace, mount the container's /proc, /sys, a minimal /dev, /tmp and
// /run (and the caller's binds) into a directory, switch the root to it
// with pivot_root so that the host's files are gone, and run a program
// there. The work is done by pkg/rootfs.
package pivot

import (
	"github.com/nsbox/nsbox/pkg/applet"
)

func init() {
	applet.Register(applet.Applet{
		Name:    "pivot",
		Summary: "mount a container's proc, sys, dev, tmp and run into a directory and switch the root to it",
		Usage:   usage,
		Run:     run,
	})
}

const usage = `
Usage:
 pivot [options] <newroot> [<program> [<argument>...]]

Make <newroot> the root directory of this mount namespace, with its own
/proc, /sys, a minimal /dev, /tmp and /run, then run <program> there
(default /bin/sh). Run it inside a new mount namespace (unshare -m).

Options:
     --no-proc             do not mount proc on /proc
     --no-sys              do not mount /sys
     --no-dev              do not mount /dev (nor its nodes and links)
     --no-devpts           do not mount devpts on /dev/pts (nor /dev/ptmx)
     --no-shm              do not mount a tmpfs on /dev/shm
     --no-mqueue           do not mount mqueue on /dev/mqueue
     --no-tmp              do not mount a tmpfs on /tmp
     --no-run              do not mount a tmpfs on /run
     --proc-opts <opts>    options of the proc mount (hidepid=2,subset=pid)
     --sys <mode>          auto (default), new (a fresh read-only sysfs)
                             or host (a read-only bind of the host's /sys)
     --dev <mode>          minimal (default: a tmpfs with null zero full
                             random urandom tty) or host (devtmpfs: every
                             device of the host)
     --bind <src>[:<dst>]  bind <src> of the host onto <dst> in <newroot>
     --ro-bind <src>[:<dst>]
                           the same, read-only
     --tmpfs <dst>         mount a tmpfs on <dst> in <newroot>
     --ro                  make <newroot> itself read-only after the mounts
     --propagation <mode>  what / becomes first: private (default) or slave
     --seed                the seed recipe's mounts instead: proc, sysfs,
                             tmpfs /tmp, devtmpfs /dev, devpts, shm, tmpfs /run
     --chroot              switch with chroot(2), not pivot_root (the seed
                             recipe's way; the old root stays reachable)
     --move                switch with MS_MOVE + chroot, as pivot does by
                             itself where the root is the initramfs
 -f, --force               run even in the host's initial mount namespace
 -v, --verbose             say each mount and how the root is switched

 -h, --help                display this help
 -V, --version             display version

Mount points are made inside <newroot> only: a destination that leads out
of it (by "..", or a symbolic link), or back to <newroot> itself, is
refused before anything is mounted. <newroot> is looked up once: renaming
a directory on its path while pivot runs changes nothing.

For more details see docs/pivot.md.
`

// run reads the options, gathers the facts of the new root and the
// caller's namespaces, decides the plan, then carries it out: nothing is
// mounted until every option, fact and mount point has been checked.
func run(e *applet.Env) error {
	o, done, err := parseOptions(e)
	if err != nil || done {
		return err
	}
	f, err := gather(o)
	if err != nil {
		return err
	}
	defer f.dir.Close()
	p, err := o.plan(f)
	if err != nil {
		return err
	}
	return p.act(talk{w: e.Stderr, name: e.Name, verbose: o.verbose})
}
