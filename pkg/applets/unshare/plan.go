package unshare

import (
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsexec"
)

// plan is what an unshare command line asks for, decided before anything
// is opened, unshared or forked; launch.go carries it out.
type plan struct {
	// steps are what the stages carry out (nsexec runs them in Go or in
	// the C constructor); stage fills in, for the route taken, which of
	// the namespaces, maps and pins are theirs.
	steps   *nsexec.Plan
	unshare uintptr // the namespaces to create, CLONE_NEW* flags
	pins    []nsexec.Pin

	// One-id maps (-r, -c, --map-user, --map-group), written by the
	// stage itself, or by this process for a forked child.
	uidMap, gidMap *idmap.Single
	// ranges are whole ranges, written from outside the namespace by
	// this process or a privileged helper; nil when there are none.
	ranges *rangeMaps
	owner  *[2]uint32 // --owner uid, gid

	fork, forward bool
	readyFd       int     // gets the PID once everything exists; -1: none
	pidFile       *string // the same, as a file
	statusFd      int     // gets JSON status objects (status.go); -1: none
}

// caller is what a plan takes from the calling process besides its
// arguments: its effective ids (the outside ids of the one-id maps), its
// environment, and the shell to run when no program is given.
type caller struct {
	euid, egid uint32
	environ    []string
	shell      func() string
}

func self() caller {
	return caller{euid: uint32(os.Geteuid()), egid: uint32(os.Getegid()), environ: os.Environ(), shell: idmap.Shell}
}

// plan decides what o asks for, with util-linux's checks of options that
// conflict; the options that imply others (--mount-proc implies -m, and
// so on) are resolved here.
func (o *options) plan(c caller) (*plan, error) {
	p := &plan{steps: nsexec.NewPlan(o.name), owner: o.owner, fork: o.fork, forward: o.forward,
		readyFd: o.readyFd, pidFile: o.pidFile, statusFd: o.statusFd}
	p.namespaces(o)
	if err := p.maps(o, c); err != nil {
		return nil, err
	}
	s := p.steps
	if p.unshare&unix.CLONE_NEWNS != 0 { // util-linux ignores it without -m
		s.Propagation = propagationFlags[o.propagation]
	}
	if o.timeOffsets {
		if p.unshare&unix.CLONE_NEWTIME == 0 {
			return nil, applet.Errorf("options --monotonic and --boottime require unsharing of a time namespace (-T)")
		}
		s.TimeOffsets, s.Monotonic, s.Boottime = true, o.monotonic, o.boottime
	}
	if o.killChild != 0 {
		s.Pdeathsig, p.fork = o.killChild, true
	}
	if o.forward {
		p.fork = true
	}
	// A bare --mount-binfmt (or -l) mounts a new /proc first in 2.43. Only
	// a child forked into a new PID namespace can: a new user namespace
	// may not mount proc for the caller's PID namespace (EPERM). Elsewhere
	// binfmt_misc goes on the /proc there is, as before 2.43.
	if o.binfmtProc && o.mountProc == nil && p.fork && p.unshare&unix.CLONE_NEWPID != 0 {
		s.ProcDir = "/proc"
	}
	s.Uid, s.Gid = o.setuid, o.setgid
	s.Root, s.Wd = o.root, o.wd
	s.KeepCaps = o.keepCaps && p.unshare&unix.CLONE_NEWUSER != 0
	s.Init = o.init
	p.program(o, c)
	return p, nil
}

// namespaces: the namespace options, their pins, and the options that
// need a namespace of their own.
func (p *plan) namespaces(o *options) {
	s := p.steps
	for _, n := range o.namespaces {
		p.unshare |= n.typ.Flag()
	}
	// Pins are bound in util-linux's order (user cgroup ipc uts net pid
	// mnt time), whatever the options' order: the first that fails is
	// the one named.
	for _, t := range ns.JoinOrder {
		for _, n := range o.namespaces {
			if n.typ == t && n.file != applet.NoFile {
				// pid and time pins name the namespace children get, as
				// util-linux binds *_for_children.
				p.pins = append(p.pins, nsexec.Pin{File: n.typ.ChildFile(), Path: n.file})
			}
		}
	}
	if o.mountProc != nil {
		p.unshare |= unix.CLONE_NEWNS
		s.ProcDir = *o.mountProc
	}
	if o.mountBinfmt != nil {
		p.unshare |= unix.CLONE_NEWNS | unix.CLONE_NEWUSER
		s.BinfmtDir = *o.mountBinfmt
		if o.loadInterp != nil {
			s.Interp = *o.loadInterp
		}
	}
	if o.hostname != nil {
		p.unshare |= unix.CLONE_NEWUTS
		s.SetHostname, s.Hostname = true, *o.hostname
	}
}

// maps: the id maps, as util-linux makes them from the caller's effective
// ids, and setgroups. Any map implies a user namespace.
func (p *plan) maps(o *options, c caller) error {
	var uid, gid *idmap.Single
	if o.mapUser != nil {
		uid = &idmap.Single{Inside: *o.mapUser, Outside: c.euid}
	}
	if o.mapGroup != nil {
		gid = &idmap.Single{Inside: *o.mapGroup, Outside: c.egid}
	}
	if o.mapRoot {
		uid, gid = &idmap.Single{Inside: 0, Outside: c.euid}, &idmap.Single{Inside: 0, Outside: c.egid}
	}
	if o.mapCurrent {
		uid, gid = &idmap.Single{Inside: c.euid, Outside: c.euid}, &idmap.Single{Inside: c.egid, Outside: c.egid}
	}
	rm, err := o.allRanges()
	if err != nil {
		return err
	}
	setgroups := o.setgroups
	if o.owner != nil {
		// The privileged parent (or map helper) writes every map: the
		// new namespace's owner could not map the caller's ids.
		p.unshare |= unix.CLONE_NEWUSER
		rm.uid, rm.gid = withSingle(rm.uid, uid), withSingle(rm.gid, gid)
		uid, gid = nil, nil
	}
	if !rm.empty() {
		// Whole ranges are written from outside; the one-id maps join them.
		if len(rm.gid) == 0 && gid != nil && setgroups == "" {
			setgroups = "deny" // as --map-group alone implies
		}
		rm.uid, rm.gid = withSingle(rm.uid, uid), withSingle(rm.gid, gid)
		uid, gid = nil, nil
		p.ranges = rm
		p.unshare |= unix.CLONE_NEWUSER
	}
	if uid != nil || gid != nil {
		p.unshare |= unix.CLONE_NEWUSER
	}
	if setgroups == "allow" && gid != nil {
		return applet.Errorf("options --setgroups=allow and --map-group are mutually exclusive")
	}
	p.uidMap, p.gidMap, p.steps.Setgroups = uid, gid, setgroups
	return nil
}

// allRanges returns the --map-users and --map-groups ranges followed by
// those of --map-auto and --map-subids.
func (o *options) allRanges() (*rangeMaps, error) {
	rm := &rangeMaps{uid: append([]idmap.Range(nil), o.ranges.uid...), gid: append([]idmap.Range(nil), o.ranges.gid...)}
	for _, a := range []struct {
		set  bool
		spec string
	}{{o.mapAuto, "auto"}, {o.mapSubids, "subids"}} {
		if !a.set {
			continue
		}
		for _, k := range []struct {
			kind string
			dst  *[]idmap.Range
		}{{"uid", &rm.uid}, {"gid", &rm.gid}} {
			rs, err := parseRangeSpec(k.kind, a.spec)
			if err != nil {
				return nil, err
			}
			*k.dst = append(*k.dst, rs...)
		}
	}
	return rm, nil
}

// program: what runs, with which environment. Without a program, the
// shell runs as a login shell ("-sh").
func (p *plan) program(o *options, c caller) {
	s := p.steps
	s.Env = c.environ
	if o.clearEnv {
		s.Env = nil
	}
	if o.whitelistEnv != nil {
		s.Env = whitelistEnv(c.environ, *o.whitelistEnv)
	}
	if len(o.program) > 0 {
		s.Path, s.Argv = o.program[0], o.program
		return
	}
	s.Path = c.shell()
	s.Argv = []string{"-" + filepath.Base(s.Path)}
}

func whitelistEnv(env []string, list string) []string {
	keep := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		keep[n] = true
	}
	var out []string
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		if keep[k] {
			out = append(out, e)
		}
	}
	return out
}

// route is where a plan runs.
type route int

const (
	// inProcess: no user namespace and no fork: this process unshares,
	// on its locked main thread, and execs the program.
	inProcess route = iota
	// inPlace: a user namespace without --fork: this process
	// re-executes itself into the C constructor, which unshares it while
	// single-threaded and keeps the PID.
	inPlace
	// forkDirect: --fork the way util-linux forks: this process unshares
	// and forks the program, with no stage in between.
	forkDirect
	// forkStage: --fork (or -U in a build without the constructor): a
	// child cloned into the namespaces runs the stage; this process
	// writes the maps, pins the namespaces and passes on the child's
	// status.
	forkStage
)

func (r route) String() string {
	return [...]string{"inProcess", "inPlace", "forkDirect", "forkStage"}[r]
}

// route chooses where p runs; constructor tells whether this build has
// the C constructor (nsexec.Constructor).
func (p *plan) route(constructor bool) route {
	user := p.unshare&unix.CLONE_NEWUSER != 0
	switch {
	case !p.fork && !user:
		return inProcess
	case !p.fork && constructor:
		return inPlace
	case p.direct():
		return forkDirect
	}
	return forkStage
}

// direct tells whether --fork can go the way util-linux goes: this process
// unshares (it has the main thread to itself) and forks the program. Steps
// that must run in the child (proc mounts, binfmt, the init, a chroot
// before the PATH search), a user namespace, a parent-death signal (Go's
// fork checks getppid, which is 0 across a pid namespace) and pins or
// notification (the program must not start before they exist) take the
// child stage.
func (p *plan) direct() bool {
	s := p.steps
	return p.unshare&unix.CLONE_NEWUSER == 0 && s.ProcDir == "" && s.BinfmtDir == "" && !s.Init &&
		s.Root == "" && s.Pdeathsig == 0 && len(p.pins) == 0 && !p.notifies() && s.Setgroups == ""
}

// notifies tells whether someone is told the PID.
func (p *plan) notifies() bool { return p.readyFd >= 0 || p.pidFile != nil || p.statusFd >= 0 }

// stage returns the steps that the stage of route r carries out, all but
// the descriptors (they exist only once the plan is carried out), and for
// forkStage the namespaces the child is cloned into.
func (p *plan) stage(r route) (s nsexec.Plan, clone uintptr) {
	s = *p.steps
	switch r {
	case inProcess:
		s.Unshare, s.Pins, s.StatusFd = p.unshare, p.pins, p.statusFd
	case inPlace:
		s.Unshare, s.Pins, s.StatusFd = p.unshare, p.pins, p.statusFd
		s.UIDMap, s.GIDMap = p.uidMap, p.gidMap
		if !p.ranges.empty() {
			s.Setgroups = "" // the map helper writes it, before the gid map
		}
	case forkDirect:
		s.Unshare = p.unshare
	case forkStage:
		// The child makes the time namespace itself: its offsets can be
		// written only while no process is in it, and a clone would put
		// the child there at once.
		clone, s.Unshare = p.unshare&^unix.CLONE_NEWTIME, p.unshare&unix.CLONE_NEWTIME
		if p.unshare&unix.CLONE_NEWUSER != 0 {
			s.ClearAmbient = true
			// This process writes setgroups, with the maps; the child
			// must not write it again (deny after a gid map: EPERM).
			s.Setgroups = ""
		}
	}
	return s, clone
}
