// Package pin is the pin applet: keep the namespaces of a process alive
// without it, as files that nsenter --TYPE=FILE enters, as a directory
// handle DIR/<type> for a whole container, or as /run/netns/NAME for
// iproute2; and release them. The work is done by pkg/pin.
package pin

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

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

 -h, --help                display this help
 -V, --version             display version

A namespace given without <file> is pinned as <dir>/<type> (user mnt uts ipc
net pid cgroup time); <dir> is created if missing. For a mount namespace, pin
makes <dir> a private mount point unless it is a non-shared one already.

For more details see docs/pin.md.
`

// noFile is the value of a type option given without =FILE.
const noFile = applet.NoFile

func run(e *applet.Env) error {
	fs := applet.NewFlags(e)
	fs.StringP("target", "t", "", "")
	all := fs.BoolP("all", "a", false, "")
	opts := applet.NamespaceFlags(fs, []string{"mount", "uts", "ipc", "net", "pid", "user", "cgroup", "time"}, true)
	forChildren := fs.Bool("for-children", false, "")
	netns := fs.String("netns", "", "")
	del := fs.BoolP("delete", "d", false, "")
	hold := fs.Bool("hold", false, "")

	var pid int
	applet.Check(fs, "target", func(v string) error {
		var err error
		pid, err = parsePID(v)
		return err
	})
	applet.Check(fs, "netns", func(v string) error {
		if !pin.ValidNetnsName(v) {
			return applet.Errorf("invalid netns name '%s'", v)
		}
		return nil
	})
	for _, o := range opts {
		applet.Check(fs, o.Long, func(v string) error {
			if v == "" {
				return applet.Errorf("--%s: empty file name", o.Long)
			}
			return nil
		})
	}

	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return err
	}
	typesGiven := false
	for _, o := range opts {
		typesGiven = typesGiven || fs.Changed(o.Long)
	}

	if *del {
		if fs.Changed("target") || *all || typesGiven || *forChildren || *hold {
			return applet.Errorf("--delete takes no --target, --all, --for-children, --hold or namespace options")
		}
		if len(rest) == 0 && !fs.Changed("netns") {
			return applet.Errorf("--delete needs a <path> or --netns <name>")
		}
		return release(e, rest, *netns)
	}

	if !fs.Changed("target") {
		return applet.Errorf("no target process specified (-t <pid>)")
	}
	if len(rest) > 1 {
		return applet.Usagef("too many arguments: only one <dir> is allowed")
	}
	dir := ""
	if len(rest) == 1 {
		dir = rest[0]
		if dir == "" {
			return applet.Errorf("empty directory name")
		}
	}
	every := *all || (!typesGiven && dir != "")
	if !every && !typesGiven && !fs.Changed("netns") {
		return applet.Errorf("nothing to pin: give namespace options, a <dir> or --netns <name>")
	}

	if *hold && (dir == "" || fs.Changed("netns")) {
		return applet.Errorf("--hold needs a <dir> and takes no --netns")
	}
	b := &pin.Batch{PID: pid, ForChildren: *forChildren, Dir: dir, Netns: *netns, Hold: *hold}
	for _, t := range ns.JoinOrder { // user first: the order of ns.JoinOrder
		var o *applet.NsFlag
		for _, x := range opts {
			if x.Type.String() == t.String() {
				o = x
			}
		}
		switch {
		case fs.Changed(o.Long):
			tg := pin.Target{Type: t}
			if o.Val != noFile {
				if *hold {
					return applet.Errorf("--hold pins into the <dir> only: --%s takes no <file>", o.Long)
				}
				tg.Path = o.Val
			} else if dir == "" {
				return applet.Errorf("no file or directory for the %s namespace: use --%s=<file> or give a <dir>", t.String(), o.Long)
			}
			b.Targets = append(b.Targets, tg)
		case every:
			if dir == "" {
				return applet.Errorf("--all needs a <dir>")
			}
			b.Targets = append(b.Targets, pin.Target{Type: t, Optional: true})
		}
	}

	res, err := b.Do()
	if err != nil {
		var pe *pin.Error
		if !*hold && *netns == "" && errors.As(err, &pe) && pe.Hint == "" && errors.Is(err, unix.EPERM) {
			pe.Hint = "pins are mounts, which need privilege over this mount namespace; without it, use pin --hold -t PID DIR"
		}
		return failure(err)
	}
	if res.Holder != 0 {
		fmt.Fprintf(e.Stdout, "%s: %s is held by process %d (pin -d %s stops it)\n", e.Name, dir, res.Holder, dir)
	}
	if res.Prepared != "" {
		fmt.Fprintf(e.Stdout, "%s: made %s a private mount point for the mount-namespace pin\n", e.Name, res.Prepared)
	}
	for _, s := range res.Skipped {
		if errors.Is(s.Reason, pin.ErrOwnMount) {
			fmt.Fprintf(e.Stdout, "%s: not pinning %s: PID %d is in pin's own mount namespace, which cannot pin itself\n", e.Name, s.Type.String(), pid)
		} else {
			fmt.Fprintf(e.Stdout, "%s: not pinning %s: this kernel has no %s namespaces\n", e.Name, s.Type.String(), s.Type.String())
		}
	}
	return nil
}

// release checks every path first and refuses them all if one is not a
// pin or pin directory; then releases each.
func release(e *applet.Env, paths []string, netns string) error {
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

// parsePID parses a PID as util-linux 2.43's ul_strtopid does: a decimal
// number that fits in pid_t and is positive.
func parsePID(s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange):
		return 0, applet.Errorf("failed to parse PID argument '%s': %s", s, applet.Strerror(unix.ERANGE))
	case err != nil:
		return 0, applet.Errorf("failed to parse PID argument '%s': %s", s, applet.Strerror(unix.EINVAL))
	case n <= 0:
		return 0, applet.Errorf("failed to parse PID argument '%s': %s", s, applet.Strerror(unix.ERANGE))
	}
	return int(n), nil
}
