// Package pin is the pin applet: keep the namespaces of a process alive
// without it, as files that nsenter --TYPE=FILE enters, as a directory
// handle DIR/<type> for a whole container, or as /run/netns/NAME for
// iproute2; and release them. The command line becomes a Plan, decided
// from the arguments alone: a pin.Batch to make, or the pins to release;
// pkg/pin does the work.
package pin

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/pin"
)

func init() {
	applet.Register(applet.Applet{
		Name:    "pin",
		Summary: "keep a process's namespaces alive as files (pins), or release them",
		Usage:   usage,
		Run:     run,
	})
}

const usage = `
Usage:
 pin [options] -t <pid> <dir>
 pin [options] -t <pid> -n[<file>] -m[<file>]... [<dir>]
 pin [options] -t <pid> --netns <name>
 pin -d [--netns <name>] [<path>...]

Keep namespaces of a process alive without it: bind-mount its
/proc/<pid>/ns/<type> files onto files (pins), which nsenter --<type>=<file>
enters even after the process is gone.

Options:
 -t, --target <pid>        the process whose namespaces to pin
 -a, --all                 pin every namespace (the default when only a <dir> is given)
 -m, --mount[=<file>]      pin the mount namespace
 -u, --uts[=<file>]        pin the UTS namespace (hostname etc)
 -i, --ipc[=<file>]        pin the System V IPC namespace
 -n, --net[=<file>]        pin the network namespace
 -p, --pid[=<file>]        pin the pid namespace
 -U, --user[=<file>]       pin the user namespace
 -C, --cgroup[=<file>]     pin the cgroup namespace
 -T, --time[=<file>]       pin the time namespace
     --for-children        pin the pid and time namespaces the target's children
                             get (pid_for_children, time_for_children)
     --netns <name>        pin the network namespace as /run/netns/<name>,
                             as "ip netns add" does
 -d, --delete              release the pins, directories and --netns <name> given
     --hold                keep the namespaces alive with a holder process
                             instead of mounts: no privilege needed (the
                             rootless way); <dir>/<type> are links to the
                             holder's descriptors
     --json                say what was pinned, and where, as one JSON object

 -h, --help                display this help
 -V, --version             display version

A namespace given without <file> is pinned as <dir>/<type> (user mnt uts ipc
net pid cgroup time); <dir> is created if missing. For a mount namespace, pin
makes <dir> a private mount point unless it is a non-shared one already.

For more details see docs/pin.md.
`

// Plan is what a pin command line asks for: pins to make, or (-d) pins to
// release. Exactly one of Pin and Release is set.
type Plan struct {
	Pin     *pin.Batch
	Release *Release
	JSON    bool // --json: say what was pinned as JSON
}

// Release is -d: the pins and directory handles Paths, then the
// /run/netns pin Netns ("": none).
type Release struct {
	Paths []string
	Netns string
}

func run(e *applet.Env) error {
	p, done, err := parse(e)
	if err != nil || done {
		return err
	}
	if p.Release != nil {
		return release(p.Release)
	}
	return makePins(e, p.Pin, p.JSON)
}

// options are pin's options as getopt has read them.
type options struct {
	fs         *pflag.FlagSet
	namespaces []*applet.NsFlag
	target     int

	all, forChildren, del, hold, json *bool
	netns                             *string
}

// parse reads the command line of e into a Plan; done when --help or
// --version was printed instead.
func parse(e *applet.Env) (p *Plan, done bool, err error) {
	o := define(e)
	operands, done, err := applet.Parse(e, o.fs, usage)
	if err != nil || done {
		return nil, done, err
	}
	if *o.del {
		p, err = o.release(operands)
	} else {
		p, err = o.pin(operands)
	}
	return p, false, err
}

// define defines pin's options, with the checks of their values made as
// they are read.
func define(e *applet.Env) *options {
	fs := applet.NewFlags(e)
	o := &options{fs: fs}
	fs.StringP("target", "t", "", "")
	o.all = fs.BoolP("all", "a", false, "")
	o.namespaces = applet.NamespaceFlags(fs, []string{"mount", "uts", "ipc", "net", "pid", "user", "cgroup", "time"}, true)
	o.forChildren = fs.Bool("for-children", false, "")
	o.netns = fs.String("netns", "", "")
	o.del = fs.BoolP("delete", "d", false, "")
	o.hold = fs.Bool("hold", false, "")
	o.json = fs.Bool("json", false, "")

	applet.Check(fs, "target", func(v string) (err error) {
		o.target, err = applet.ParsePID(v)
		return err
	})
	applet.Check(fs, "netns", func(v string) error {
		if !pin.ValidNetnsName(v) {
			return applet.Errorf("invalid netns name '%s'", v)
		}
		return nil
	})
	for _, f := range o.namespaces {
		applet.Check(fs, f.Long, func(v string) error {
			if v == "" {
				return applet.Errorf("--%s: empty file name", f.Long)
			}
			return nil
		})
	}
	return o
}

// typesGiven tells whether a namespace option was given.
func (o *options) typesGiven() bool {
	for _, f := range o.namespaces {
		if o.fs.Changed(f.Long) {
			return true
		}
	}
	return false
}

// release is the Plan of -d.
func (o *options) release(paths []string) (*Plan, error) {
	if o.fs.Changed("target") || *o.all || o.typesGiven() || *o.forChildren || *o.hold || *o.json {
		return nil, applet.Errorf("--delete takes no --target, --all, --for-children, --hold, --json or namespace options")
	}
	if len(paths) == 0 && !o.fs.Changed("netns") {
		return nil, applet.Errorf("--delete needs a <path> or --netns <name>")
	}
	return &Plan{Release: &Release{Paths: paths, Netns: *o.netns}}, nil
}

// pin is the Plan of pinning: the namespaces named, or with --all (or a
// <dir> alone) every one, each onto its <file> or into the <dir>.
func (o *options) pin(operands []string) (*Plan, error) {
	if !o.fs.Changed("target") {
		return nil, applet.Errorf("no target process specified (-t <pid>)")
	}
	if len(operands) > 1 {
		return nil, applet.Usagef("too many arguments: only one <dir> is allowed")
	}
	b := &pin.Batch{PID: o.target, ForChildren: *o.forChildren, Netns: *o.netns, Hold: *o.hold}
	if len(operands) == 1 {
		if b.Dir = operands[0]; b.Dir == "" {
			return nil, applet.Errorf("empty directory name")
		}
	}
	typesGiven := o.typesGiven()
	every := *o.all || (!typesGiven && b.Dir != "")
	if !every && !typesGiven && b.Netns == "" {
		return nil, applet.Errorf("nothing to pin: give namespace options, a <dir> or --netns <name>")
	}
	if b.Hold && (b.Dir == "" || b.Netns != "") {
		return nil, applet.Errorf("--hold needs a <dir> and takes no --netns")
	}
	var byType [ns.NTypes]*applet.NsFlag
	for _, f := range o.namespaces {
		byType[f.Type] = f
	}
	for _, t := range ns.JoinOrder { // user first
		f := byType[t]
		switch {
		case o.fs.Changed(f.Long):
			tg := pin.Target{Type: t}
			if f.Val != applet.NoFile {
				if b.Hold {
					return nil, applet.Errorf("--hold pins into the <dir> only: --%s takes no <file>", f.Long)
				}
				tg.Path = f.Val
			} else if b.Dir == "" {
				return nil, applet.Errorf("no file or directory for the %s namespace: use --%s=<file> or give a <dir>", t, f.Long)
			}
			b.Targets = append(b.Targets, tg)
		case every:
			if b.Dir == "" {
				return nil, applet.Errorf("--all needs a <dir>")
			}
			b.Targets = append(b.Targets, pin.Target{Type: t, Optional: true})
		}
	}
	return &Plan{Pin: b, JSON: *o.json}, nil
}

// makePins carries out b and says what it did beyond the pins: the
// holder process, the mount point it made, the namespaces it left out;
// with json, all of it and the pins, as JSON.
func makePins(e *applet.Env, b *pin.Batch, json bool) error {
	res, err := b.Do()
	if err != nil {
		var pe *pin.Error
		if !b.Hold && b.Netns == "" && errors.As(err, &pe) && pe.Hint == "" && errors.Is(err, unix.EPERM) {
			pe.Hint = "pins are mounts, which need privilege over this mount namespace; without it, use pin --hold -t PID DIR"
		}
		return failure(err)
	}
	if json {
		writeJSON(e.Stdout, b, res)
		return nil
	}
	if res.Holder != 0 {
		fmt.Fprintf(e.Stdout, "%s: %s is held by process %d (pin -d %s stops it)\n", e.Name, b.Dir, res.Holder, b.Dir)
	}
	if res.Prepared != "" {
		fmt.Fprintf(e.Stdout, "%s: made %s a private mount point for the mount-namespace pin\n", e.Name, res.Prepared)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(e.Stdout, "%s: not pinning %s: %s\n", e.Name, s.Type, skipReason(s, b.PID))
	}
	return nil
}

// skipReason says why a namespace of "every namespace" was left out.
func skipReason(s pin.Skip, pid int) string {
	if errors.Is(s.Reason, pin.ErrOwnMount) {
		return fmt.Sprintf("PID %d is in pin's own mount namespace, which cannot pin itself", pid)
	}
	return fmt.Sprintf("this kernel has no %s namespaces", s.Type)
}

// release checks every path first and refuses them all if one is not a
// pin or pin directory; then releases each.
func release(r *Release) error {
	paths, netns := r.Paths, r.Netns
	kinds := make([]pin.Kind, len(paths))
	for i, p := range paths {
		k, err := pin.Inspect(p)
		if err != nil {
			return failure(err)
		}
		kinds[i] = k
	}
	if netns != "" && len(paths) > 0 { // alone, UnpinNetns checks it
		p := filepath.Join(pin.NetnsDir, netns)
		if k, err := pin.Inspect(p); err != nil {
			return failure(err)
		} else if k != pin.KindPin {
			return failure(&pin.Error{Op: p, Err: pin.ErrNotPin})
		}
	}
	for i, p := range paths {
		var err error
		if kinds[i] == pin.KindPin {
			err = pin.Unpin(p)
		} else {
			err = pin.UnpinDir(p)
		}
		if err != nil {
			return failure(err)
		}
	}
	if netns != "" {
		if err := pin.UnpinNetns(netns); err != nil {
			return failure(err)
		}
	}
	return nil
}

// failure turns a pkg/pin error into the applet's message, strerror text
// spelt as glibc spells it.
func failure(err error) error {
	var pe *pin.Error
	if errors.As(err, &pe) {
		msg := pe.Op + ": " + applet.Strerror(pe.Err)
		if pe.Hint != "" {
			msg += " (" + pe.Hint + ")"
		}
		return applet.Errorf("%s", msg)
	}
	return applet.Errorf("%s", applet.Message(err))
}
