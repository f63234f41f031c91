package pivot

import (
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/rootfs"
)

// options are a pivot command line as read.
type options struct {
	spec        rootfs.Spec
	propagation uintptr // unix.MS_PRIVATE or unix.MS_SLAVE
	how         how
	force       bool
	verbose     bool
	newroot     string   // as given
	argv        []string // the program and its arguments
}

// how is the root switch asked for.
type how int

const (
	auto     how = iota // pivot_root, or MS_MOVE + chroot where pivot_root cannot
	byChroot            // --chroot
	byMove              // --move
)

// parseOptions reads e.Args. done is true when --help or --version was
// answered. Nothing happens here but reading: applet.Options runs it to
// learn the option table.
func parseOptions(e *applet.Env) (o *options, done bool, err error) {
	o = &options{spec: rootfs.Spec{Omit: map[string]bool{}}, propagation: unix.MS_PRIVATE}
	fs := applet.NewFlags(e)
	no := map[string]*bool{}
	for _, name := range rootfs.Standard {
		no[name] = fs.Bool(noOpts[name], false, "")
	}
	fs.StringVar(&o.spec.ProcOpts, "proc-opts", "", "")
	fs.String("sys", "auto", "")
	fs.String("dev", "minimal", "")
	fs.StringArray("bind", nil, "")
	fs.StringArray("ro-bind", nil, "")
	fs.StringArray("tmpfs", nil, "")
	fs.BoolVar(&o.spec.ReadOnly, "ro", false, "")
	fs.String("propagation", "private", "")
	fs.BoolVar(&o.spec.Seed, "seed", false, "")
	chroot := fs.Bool("chroot", false, "")
	move := fs.Bool("move", false, "")
	fs.BoolVarP(&o.force, "force", "f", false, "")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "")
	o.checkValues(fs)

	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return nil, done, err
	}
	if len(rest) == 0 {
		return nil, false, applet.Usagef("no new root specified")
	}
	for name, b := range no {
		if *b {
			o.spec.Omit[name] = true
		}
	}
	switch {
	case *chroot && *move:
		return nil, false, applet.Errorf("mutually exclusive arguments: --chroot --move")
	case o.spec.Seed && (fs.Changed("sys") || fs.Changed("dev") || fs.Changed("proc-opts")):
		return nil, false, applet.Errorf("--seed makes the seed recipe's mounts: --sys, --dev and --proc-opts do not apply")
	case *chroot:
		o.how = byChroot
	case *move:
		o.how = byMove
	}
	o.newroot, o.argv = rest[0], rest[1:]
	if len(o.argv) == 0 {
		o.argv = []string{"/bin/sh"}
	}
	return o, false, nil
}

// checkValues makes the options with a value check it as it is read.
func (o *options) checkValues(fs *pflag.FlagSet) {
	words := func(name, what string, values map[string]func()) {
		applet.Check(fs, name, func(v string) error {
			set, ok := values[v]
			if !ok {
				return applet.Errorf("unsupported %s: %s", what, v)
			}
			set()
			return nil
		})
	}
	words("sys", "--sys mode", map[string]func(){
		"auto": func() { o.spec.Sys = rootfs.SysAuto },
		"new":  func() { o.spec.Sys = rootfs.SysNew },
		"host": func() { o.spec.Sys = rootfs.SysHost },
	})
	words("dev", "--dev mode", map[string]func(){
		"minimal": func() { o.spec.Dev = rootfs.DevMinimal },
		"host":    func() { o.spec.Dev = rootfs.DevHost },
	})
	words("propagation", "propagation mode", map[string]func(){
		"private": func() { o.propagation = unix.MS_PRIVATE },
		"slave":   func() { o.propagation = unix.MS_SLAVE },
	})
	// The caller's mounts are made in the order given, across the three
	// options: collect them as they are read.
	for _, k := range []struct {
		name string
		kind rootfs.BindKind
	}{{"bind", rootfs.KindBind}, {"ro-bind", rootfs.KindROBind}, {"tmpfs", rootfs.KindTmpfs}} {
		applet.Check(fs, k.name, func(v string) error {
			m, err := parseMount(k.kind, "--"+k.name, v)
			if err != nil {
				return err
			}
			o.spec.User = append(o.spec.User, m)
			return nil
		})
	}
}

// noOpts are the --no-NAME options, by standard mount.
var noOpts = map[string]string{
	rootfs.Proc: "no-proc", rootfs.Sys: "no-sys", rootfs.Dev: "no-dev", rootfs.Devpts: "no-devpts",
	rootfs.Shm: "no-shm", rootfs.Mqueue: "no-mqueue", rootfs.Tmp: "no-tmp", rootfs.Run: "no-run",
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
