package nsenter

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsexec"
	"github.com/nsbox/nsbox/pkg/pin"
)

// Plan is what an nsenter command line asks for, decided from the
// arguments alone: where each named namespace comes from, and what
// happens around entering. open carries it out up to the entering.
//
// A step that takes something from the target process holds, when no
// --target was given, the error it gives instead (NoTarget): util-linux
// reports a missing target when it comes to open that file, so a file
// named before it that cannot be opened is reported first.
type Plan struct {
	Target int // --target PID; 0: none
	// TargetInode (-t PID:INODE) is the inode of a pidfd of the process
	// meant: open enters only if PID still is that process. 0: any.
	TargetInode uint64

	// Joins are the namespaces the options name, in ns.JoinOrder.
	Joins []Join
	// Dir (--dir) adds every namespace pinned in Dir that is not the
	// caller's own; All (--all) every namespace of the target (All.Path,
	// its /proc/PID/ns) that is not. A type already named keeps its file.
	Dir string
	All *Source
	// NetSocket (-N) enters the network namespace of a socket of the
	// target; UserParent the parent of the user namespace entered (or
	// the owner of the others).
	NetSocket  *Socket
	UserParent bool

	Root, Wd *Source // -r, -w: directories opened before entering
	WdNs     string  // -W: a directory looked up after entering

	NoFork bool // -F: do not fork after entering a pid namespace

	// Netns (--netns) sets up, after entering, what "ip netns exec" does
	// for the network namespace the Net join names.
	Netns *nsexec.Netns

	// Credentials: -S and -G (-1: not given) or, FollowUid and FollowGid,
	// the target's, read after entering from Follow (/proc/PID). In an
	// entered user namespace they are root's unless Preserve, and
	// KeepCaps raises the ambient capabilities there.
	Uid, Gid             int
	FollowUid, FollowGid bool
	Follow               *Source
	Preserve             bool
	KeepCaps             bool

	Environ *Source // -e: the target's environment instead of the caller's
	Cgroup  *Source // -c: the target's cgroup file, to join its cgroup

	Argv []string // the program and its arguments; none: a login shell
}

// Join is a namespace to enter and the file it comes from: Path, or with
// ByID the namespace whose 64-bit id is NsID (--TYPE=:NSID).
type Join struct {
	Type ns.Type
	Path string
	ByID bool
	NsID uint64
	// FromTarget: Path is the target's own /proc/PID/ns file, which a
	// pidfd of the target can stand for.
	FromTarget bool
}

// Source is a file a step opens or reads: Path, or when the step needs a
// target and none was given, NoTarget, the error the step gives.
type Source struct {
	Path     string
	NoTarget string
}

// Socket is -N: FD, a socket descriptor of the target whose network
// namespace to enter; NoTarget as for Source.
type Socket struct {
	FD       int
	NoTarget string
}

// options are nsenter's options as getopt has read them.
type options struct {
	fs         *pflag.FlagSet
	namespaces []*applet.NsFlag
	target     int
	targetIno  uint64

	all, userParent, preserve, keepCaps *bool
	env, noFork, joinCgroup             *bool
	netSocket, setuid, setgid           *string
	root, wd, wdns, dir, netns          *string
}

// parse reads the command line of e into a Plan; done when --help or
// --version was printed instead.
func parse(e *applet.Env) (p *Plan, done bool, err error) {
	o := define(e)
	argv, done, err := applet.Parse(e, o.fs, usage)
	if err != nil || done {
		return nil, done, err
	}
	p, err = o.plan(argv)
	return p, false, err
}

// define defines nsenter's options (an ambiguous abbreviation lists its
// candidates in this order), with the checks util-linux makes of their
// values as it reads them.
func define(e *applet.Env) *options {
	fs := applet.NewFlags(e)
	o := &options{fs: fs}
	o.namespaces = applet.NamespaceFlags(fs, []string{"mount", "uts", "ipc", "net", "pid", "cgroup", "user", "time"}, true)
	o.all = fs.BoolP("all", "a", false, "")
	fs.StringP("target", "t", "", "")
	o.netSocket = fs.StringP("net-socket", "N", "", "")
	o.userParent = fs.Bool("user-parent", false, "")
	o.setuid = fs.StringP("setuid", "S", "", "")
	o.setgid = fs.StringP("setgid", "G", "", "")
	o.preserve = fs.Bool("preserve-credentials", false, "")
	o.keepCaps = fs.Bool("keep-caps", false, "")
	o.root = fs.StringP("root", "r", "", "")
	o.wd = fs.StringP("wd", "w", "", "")
	for _, n := range []string{"root", "wd"} {
		f := fs.Lookup(n)
		f.NoOptDefVal = applet.NoFile
		f.Annotations = map[string][]string{applet.OptionalShort: nil}
	}
	o.wdns = fs.StringP("wdns", "W", "", "")
	o.env = fs.BoolP("env", "e", false, "")
	o.noFork = fs.BoolP("no-fork", "F", false, "")
	o.joinCgroup = fs.BoolP("join-cgroup", "c", false, "")
	fs.BoolP("follow-context", "Z", false, "") // ignored: no SELinux support
	o.dir = fs.String("dir", "", "")
	o.netns = fs.String("netns", "", "")

	applet.Check(fs, "target", func(v string) (err error) {
		if o.target != 0 {
			return applet.Errorf("option --target may be given only once")
		}
		o.target, o.targetIno, err = parseTarget(v)
		return err
	})
	for _, f := range o.namespaces {
		applet.Check(fs, f.Long, func(v string) error {
			if id, ok := strings.CutPrefix(v, ":"); ok {
				if _, err := strconv.ParseUint(id, 10, 64); err != nil {
					return applet.Errorf("failed to parse nsid: %s", id)
				}
			}
			return nil
		})
	}
	applet.Check(fs, "net-socket", func(v string) error {
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return applet.Errorf("failed to parse file descriptor: '%s'", v)
		}
		return nil
	})
	for _, c := range []struct{ name, what string }{{"setuid", "uid"}, {"setgid", "gid"}} {
		applet.Check(fs, c.name, func(v string) error {
			if _, ok := idmap.ParseID(v); !ok && v != "follow" {
				return applet.Errorf("failed to parse %s: '%s'", c.what, v)
			}
			return nil
		})
	}
	return o
}

// plan makes the Plan of the options read and the operands argv, with
// the checks that need nothing but the command line.
func (o *options) plan(argv []string) (*Plan, error) {
	set := o.fs.Changed
	if set("wd") && set("wdns") {
		return nil, applet.Errorf("mutually exclusive arguments: --wdns --wd")
	}
	for _, other := range []string{"net", "net-socket"} {
		if set("netns") && set(other) {
			return nil, applet.Errorf("mutually exclusive arguments: --%s --netns", other)
		}
	}
	p := &Plan{
		Target:      o.target,
		TargetInode: o.targetIno,
		Dir:         *o.dir,
		UserParent:  *o.userParent,
		WdNs:        *o.wdns,
		NoFork:      *o.noFork,
		Uid:         -1,
		Gid:         -1,
		Preserve:    *o.preserve,
		KeepCaps:    *o.keepCaps,
		Argv:        argv,
	}
	var netns *Join
	if set("netns") {
		var err error
		if netns, err = p.netns(*o.netns); err != nil {
			return nil, err
		}
	}
	if err := p.joins(o.namespaces, set, netns); err != nil {
		return nil, err
	}
	if *o.all {
		p.All = p.fromTarget("ns", "no target PID specified for --all")
	}
	if set("net-socket") {
		fd, _ := strconv.Atoi(*o.netSocket)
		p.NetSocket = &Socket{FD: fd}
		if p.Target == 0 {
			p.NetSocket.NoTarget = "--net-socket requires --target"
		}
	}
	if set("root") {
		p.Root = p.dir(*o.root, "root")
	}
	if set("wd") {
		p.Wd = p.dir(*o.wd, "cwd")
	}
	p.credentials(set("setuid"), *o.setuid, set("setgid"), *o.setgid)
	if *o.env {
		p.Environ = p.fromTarget("environ", "--env requires --target")
	}
	if *o.joinCgroup {
		p.Cgroup = p.fromTarget("cgroup", "--join-cgroup requires --target")
	}
	return p, nil
}

// joins lists the namespaces the options name, each from its FILE (or
// NSID), else the target's, else the --dir handle's; netns, if not nil,
// is the network namespace --netns names. One with none of them is an
// error, the first in the order the options are defined (mount uts ipc
// net pid cgroup user time), whatever their order on the command line.
func (p *Plan) joins(flags []*applet.NsFlag, set func(string) bool, netns *Join) error {
	var named [ns.NTypes]*Join
	named[ns.Net] = netns
	for _, f := range flags {
		if !set(f.Long) {
			continue
		}
		j := &Join{Type: f.Type}
		switch {
		case strings.HasPrefix(f.Val, ":"):
			j.ByID = true
			j.NsID, _ = strconv.ParseUint(f.Val[1:], 10, 64) // checked when read
		case f.Val != applet.NoFile:
			j.Path = f.Val
		case p.Target != 0:
			j.Path, j.FromTarget = p.procPath("ns/"+f.Type.String()), true
		case p.Dir != "":
			j.Path = filepath.Join(p.Dir, f.Type.String())
		default:
			return applet.Errorf("neither filename nor target pid supplied for ns/%s", f.Type)
		}
		named[f.Type] = j
	}
	for _, t := range ns.JoinOrder {
		if named[t] != nil {
			p.Joins = append(p.Joins, *named[t])
		}
	}
	return nil
}

// credentials records -S and -G: a number, or "follow" (the target's ids,
// read from /proc/PID after entering).
func (p *Plan) credentials(uidSet bool, uid string, gidSet bool, gid string) {
	for _, c := range []struct {
		set    bool
		val    string
		id     *int
		follow *bool
		what   string
	}{{uidSet, uid, &p.Uid, &p.FollowUid, "uid"}, {gidSet, gid, &p.Gid, &p.FollowGid, "gid"}} {
		switch {
		case !c.set:
		case c.val == "follow":
			*c.follow = true
			if p.Follow == nil {
				p.Follow = p.fromTarget("", "--set"+c.what+" follow requires --target")
			}
		default:
			n, _ := idmap.ParseID(c.val)
			*c.id = int(n)
		}
	}
}

// dir is -r or -w: the directory given, or the target's root or cwd.
func (p *Plan) dir(val, name string) *Source {
	if val != applet.NoFile {
		return &Source{Path: val}
	}
	return p.fromTarget(name, "neither filename nor target pid supplied for "+name)
}

// fromTarget is the target's /proc/PID/name, or without a target the
// error noTarget.
func (p *Plan) fromTarget(name, noTarget string) *Source {
	if p.Target == 0 {
		return &Source{NoTarget: noTarget}
	}
	return &Source{Path: p.procPath(name)}
}

func (p *Plan) procPath(name string) string { return fmt.Sprintf("/proc/%d/%s", p.Target, name) }

// parseTarget reads -t's PID or PID:INODE as util-linux 2.43 does: a
// positive PID that fits in pid_t, then a positive 64-bit inode; the
// message names the whole argument.
func parseTarget(v string) (pid int, ino uint64, err error) {
	s, inode, withIno := strings.Cut(v, ":")
	if !withIno {
		pid, err = applet.ParsePID(v)
		return pid, 0, err
	}
	n, perr := strconv.ParseInt(s, 10, 32)
	reason := numErrno(perr, n <= 0)
	if reason == 0 {
		// A negative inode is out of range, not malformed.
		neg := strings.HasPrefix(inode, "-")
		ino, perr = strconv.ParseUint(strings.TrimPrefix(inode, "-"), 10, 64)
		reason = numErrno(perr, ino == 0 || neg)
	}
	if reason != 0 {
		return 0, 0, applet.Errorf("failed to parse PID argument '%s': %s", v, applet.Strerror(reason))
	}
	return int(n), ino, nil
}

// numErrno is what util-linux's number parsers say of a number strconv
// read with err: EINVAL if it is malformed, ERANGE if it is out of range
// or outside its bounds (bad); 0 if it is good.
func numErrno(err error, bad bool) syscall.Errno {
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && bad:
		return syscall.ERANGE
	case err != nil:
		return syscall.EINVAL
	}
	return 0
}

// netns is --netns NAME: the network namespace pinned as /run/netns/NAME
// and, once it is entered, "ip netns exec"'s mounts (p.Netns), with the
// /etc files of /etc/netns/NAME. An argument with a "/" is the path of a
// pin; it gets the /etc files of its name only where it is
// /run/netns/NAME.
func (p *Plan) netns(arg string) (*Join, error) {
	path, name := arg, arg
	switch {
	case strings.ContainsRune(arg, '/'):
		name = ""
		if clean := filepath.Clean(arg); filepath.Dir(clean) == pin.NetnsDir {
			name = filepath.Base(clean)
		}
	case !pin.ValidNetnsName(arg):
		return nil, applet.Errorf("invalid netns name '%s'", arg)
	default:
		path = filepath.Join(pin.NetnsDir, arg)
	}
	p.Netns = &nsexec.Netns{Name: arg}
	// iproute2 binds nothing for a name of NAME_MAX bytes or more.
	if name != "" && len(name) < 255 {
		p.Netns.Etc = filepath.Join("/etc/netns", name)
	}
	return &Join{Type: ns.Net, Path: path}, nil
}
