// Package pivot is the pivot applet: from inside a container's mount
// namespace, mount the container's /proc, /sys, a minimal /dev, /tmp and
// /run (and the caller's binds) into a directory, switch the root to it
// with pivot_root so that the host's files are gone, and run a program
// there. The work is done by pkg/rootfs.
package pivot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/execpath"
	"github.com/nsbox/nsbox/pkg/rootfs"
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
of it (by "..", or a symbolic link) is refused before anything is mounted.

For more details see docs/pivot.md.
`

// noOpts are the --no-NAME options, by standard mount.
var noOpts = map[string]string{
	rootfs.Proc: "no-proc", rootfs.Sys: "no-sys", rootfs.Dev: "no-dev", rootfs.Devpts: "no-devpts",
	rootfs.Shm: "no-shm", rootfs.Mqueue: "no-mqueue", rootfs.Tmp: "no-tmp", rootfs.Run: "no-run",
}

func run(e *applet.Env) error {
	fs := applet.NewFlags(e)
	no := map[string]*bool{}
	for _, name := range rootfs.Standard {
		no[name] = fs.Bool(noOpts[name], false, "")
	}
	procOpts := fs.String("proc-opts", "", "")
	fs.String("sys", "auto", "")
	fs.String("dev", "minimal", "")
	fs.StringArray("bind", nil, "")
	fs.StringArray("ro-bind", nil, "")
	fs.StringArray("tmpfs", nil, "")
	ro := fs.Bool("ro", false, "")
	fs.String("propagation", "private", "")
	seed := fs.Bool("seed", false, "")
	chroot := fs.Bool("chroot", false, "")
	move := fs.Bool("move", false, "")
	force := fs.BoolP("force", "f", false, "")
	verbose := fs.BoolP("verbose", "v", false, "")

	spec := rootfs.Spec{Omit: map[string]bool{}}
	prop := uintptr(unix.MS_PRIVATE)
	applet.Check(fs, "sys", func(v string) error {
		switch v {
		case "auto":
			spec.Sys = rootfs.SysAuto
		case "new":
			spec.Sys = rootfs.SysNew
		case "host":
			spec.Sys = rootfs.SysHost
		default:
			return applet.Errorf("unsupported --sys mode: %s", v)
		}
		return nil
	})
	applet.Check(fs, "dev", func(v string) error {
		switch v {
		case "minimal":
			spec.Dev = rootfs.DevMinimal
		case "host":
			spec.Dev = rootfs.DevHost
		default:
			return applet.Errorf("unsupported --dev mode: %s", v)
		}
		return nil
	})
	applet.Check(fs, "propagation", func(v string) error {
		switch v {
		case "private":
			prop = unix.MS_PRIVATE
		case "slave":
			prop = unix.MS_SLAVE
		default:
			return applet.Errorf("unsupported propagation mode: %s", v)
		}
		return nil
	})
	// The caller's mounts are made in the order given, across the three
	// options: collect them as they are parsed.
	for _, k := range []struct {
		name string
		kind rootfs.BindKind
	}{{"bind", rootfs.KindBind}, {"ro-bind", rootfs.KindROBind}, {"tmpfs", rootfs.KindTmpfs}} {
		applet.Check(fs, k.name, func(v string) error {
			m, err := parseMount(k.kind, "--"+k.name, v)
			if err != nil {
				return err
			}
			spec.User = append(spec.User, m)
			return nil
		})
	}

	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return err
	}
	if len(rest) == 0 {
		return applet.Usagef("no new root specified")
	}
	for name, b := range no {
		if *b {
			spec.Omit[name] = true
		}
	}
	spec.ProcOpts, spec.ReadOnly, spec.Seed = *procOpts, *ro, *seed
	if *chroot && *move {
		return applet.Errorf("mutually exclusive arguments: --chroot --move")
	}
	if spec.Seed && (fs.Changed("sys") || fs.Changed("dev") || fs.Changed("proc-opts")) {
		return applet.Errorf("--seed makes the seed recipe's mounts: --sys, --dev and --proc-opts do not apply")
	}
	argv := rest[1:]
	if len(argv) == 0 {
		argv = []string{"/bin/sh"}
	}

	say := func(format string, a ...any) {
		fmt.Fprintf(e.Stderr, "%s: "+format+"\n", append([]any{e.Name}, a...)...)
	}
	verb := func(string) {}
	if *verbose {
		verb = func(m string) { say("%s", m) }
	}

	// Everything the user gave is checked before the first mount.
	newroot, err := resolveRoot(rest[0])
	if err != nil {
		return err
	}
	if !*force {
		nf, err := rootfs.GatherNsFacts()
		if err != nil {
			return applet.Errorf("cannot tell whether this is the host's mount namespace: %s (mount /proc, or --force)", applet.Message(err))
		}
		if initial, why := rootfs.InitialMountNS(nf); initial {
			return applet.Errorf("refusing to run in the host's initial mount namespace (%s): "+
				"the mounts and the root switch would happen to the host itself; run pivot in a new one "+
				"(unshare -m), or --force (in an initramfs, as switch_root)", why)
		}
	}
	facts := rootfs.GatherFacts()
	if !spec.Omit[rootfs.Proc] && !facts.PidOwned {
		return applet.Errorf("cannot mount proc: the pid namespace is not owned by this user namespace " +
			"(unshare -p -f with -U, so that the user namespace owns it, or --no-proc)")
	}
	steps := rootfs.Plan(spec, facts)
	rf := rootfs.GatherRootFacts(newroot)
	if rf.NewIsRoot {
		return applet.Errorf("%s: the new root is the current root", newroot)
	}
	if !rf.RootIsMount {
		// Neither "/" can be made private nor pivot_root succeed: say
		// why now, before anything is mounted.
		return applet.Errorf("cannot switch the root from here: %s", rootfs.Explain(unix.EINVAL, rf))
	}
	r, err := rootfs.OpenRoot(newroot)
	if err != nil {
		return failure(err)
	}
	err = r.Check(steps)
	r.Close()
	if err != nil {
		return failure(err)
	}

	// From here on, this mount namespace changes.
	if err := rootfs.SetPropagation(prop); err != nil {
		return failure(err)
	}
	verb(fmt.Sprintf("made / %s", map[uintptr]string{unix.MS_PRIVATE: "rprivate", unix.MS_SLAVE: "rslave"}[prop]))
	if bound, err := rootfs.BindSelf(newroot); err != nil {
		return failure(err)
	} else if bound {
		verb(fmt.Sprintf("bound %s on itself (pivot_root needs a mount point)", newroot))
	}
	if r, err = rootfs.OpenRoot(newroot); err != nil {
		return failure(err)
	}
	err = r.Apply(steps, rootfs.Say{Note: func(m string) { say("note: %s", m) }, Verbose: verb})
	if err == nil && spec.ReadOnly {
		if err = r.ReadOnly(); err == nil {
			verb(fmt.Sprintf("made %s read-only", newroot))
		}
	}
	r.Close()
	if err != nil {
		return failure(err)
	}

	rf = rootfs.GatherRootFacts(newroot)
	method := rootfs.Decide(rf)
	switch {
	case *chroot:
		method = rootfs.Chroot
		verb("switching with chroot (the old root stays mounted beneath)")
	case *move:
		method = rootfs.MoveChroot
		verb("switching with MS_MOVE + chroot, as asked (the old root stays mounted beneath)")
	case method == rootfs.MoveChroot:
		verb(fmt.Sprintf("the current root is the mount namespace's first mount (%s, the initramfs): pivot_root cannot move it, switching with MS_MOVE + chroot", rf.RootFSType))
	default:
		verb("switching with pivot_root(\".\", \".\") and a lazy unmount of the old root")
	}
	err = rootfs.Switch(newroot, method, rf)
	if method == rootfs.PivotRoot && rootfs.RetryMove(err, rf) {
		verb("pivot_root failed with EINVAL and the current root is a ramfs or tmpfs that /proc/self/mountinfo could not describe: taking it for the initramfs, switching with MS_MOVE + chroot")
		err = rootfs.Switch(newroot, rootfs.MoveChroot, rf)
	}
	if err != nil {
		return failure(err)
	}
	return execute(argv)
}

// resolveRoot makes newroot absolute with its symbolic links resolved (on
// the host, where the caller named it) and checks it is a directory.
func resolveRoot(arg string) (string, error) {
	if arg == "" {
		return "", applet.Errorf("empty new root")
	}
	abs, err := filepath.Abs(arg)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return "", applet.Errorf("%s: %s", arg, applet.Strerror(err))
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", applet.Errorf("%s: %s", arg, applet.Strerror(err))
	}
	if !fi.IsDir() {
		return "", applet.Errorf("%s: %s", arg, applet.Strerror(unix.ENOTDIR))
	}
	return abs, nil
}

// parseMount parses the value of --bind/--ro-bind (SRC[:DST], DST
// defaulting to SRC) or --tmpfs (DST).
func parseMount(kind rootfs.BindKind, opt, v string) (rootfs.UserMount, error) {
	m := rootfs.UserMount{Kind: kind, Opt: opt + " " + v}
	if kind == rootfs.KindTmpfs {
		m.Dst = v
	} else {
		src, dst, ok := strings.Cut(v, ":")
		if !ok {
			dst = src
		}
		m.Src, m.Dst = src, dst
		if src == "" {
			return m, applet.Errorf("%s: empty source", m.Opt)
		}
		abs, err := filepath.Abs(src)
		if err != nil {
			return m, applet.Errorf("%s: %s", m.Opt, applet.Strerror(err))
		}
		m.Src = abs
	}
	switch {
	case m.Dst == "":
		return m, applet.Errorf("%s: empty destination", m.Opt)
	case rootfs.Escapes(m.Dst):
		return m, applet.Errorf("%s: %s: %s leads out of the new root", m.Opt, rootfs.ErrEscapes, m.Dst)
	case rootfs.Clean(m.Dst) == "/":
		return m, applet.Errorf("%s: %s", m.Opt, rootfs.ErrIsRoot)
	}
	return m, nil
}

func failure(err error) error { return applet.Errorf("%s", applet.Message(err)) }

// execute runs argv in the new root, as execvp does, with this process's
// environment: PATH is looked up in the new root.
func execute(argv []string) error {
	env := os.Environ()
	p, err := execpath.LookPath(argv[0], env)
	if err == nil {
		err = syscall.Exec(p, argv, env)
	}
	code := 126
	if err == unix.ENOENT {
		code = 127
	}
	return &applet.Exit{Code: code, Msg: "failed to execute " + argv[0] + ": " + applet.Strerror(err)}
}
