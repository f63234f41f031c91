package mkbridge

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/netsetup"
	"github.com/nsbox/nsbox/pkg/usernet"
)

// The unprivileged path: mkbridge run by an ordinary user through a
// set-user-ID root or file-capability install (docs/mkbridge.md,
// UNPRIVILEGED USERS). In this order:
//
//  1. identity from the real uid and gid (and the supplementary groups)
//     only; every id becomes the caller's, on every thread; this (locked)
//     thread alone keeps CAP_NET_ADMIN and CAP_SYS_ADMIN, permitted, none
//     effective;
//  2. the arguments: only what a user may ask for;
//  3. the policy, /etc/nsbox/usernet: the bridge must be one a rule gives
//     the caller;
//  4. each target opened once, with the caller's own rights, and kept
//     only when it is the caller's (usernet.OpenTarget);
//  5. CAP_SYS_ADMIN effective only to open each target's netlink socket
//     inside it (setns there and back), then out of the permitted set for
//     good: CAP_NET_ADMIN alone, before any netlink message;
//  6. the set-up (on an existing bridge, the port in one of the caller's
//     slots, addresses allocated) or the tear-down of the caller's ports
//     only, as root's, with its rollback.
//
// The environment is cleared before anything else (the policy's path is a
// constant, the messages are in the C locale, /run/netns is a constant):
// only the Go runtime has read its own knobs before main (GOGC,
// GOMAXPROCS, GODEBUG: tuning and diagnostics; GOTRACEBACK it forces to
// none in a set-user-ID process). The targets are used by descriptor only.

// userOptions are the options a user may not give, and why.
var userOptions = []struct{ name, why string }{
	{"bridge-addr", "a bridge's addresses are the administrator's"},
	{"host-ifname", "the host end's name is chosen by mkbridge"},
	{"mtu", "the MTU is the bridge's"},
	{"nat", "NAT and forwarding are the administrator's"},
	{"new", "the namespaces under /run/netns are root's"},
	{"delete-bridge", "a bridge is the administrator's"},
	{"check", "the diagnosis is root's"},
}

// runUser is mkbridge on the unprivileged path (see above).
func runUser(e *applet.Env) error {
	runtime.LockOSThread() // the capabilities kept are this thread's: never unlocked
	os.Clearenv()          // nothing after this reads the caller's environment
	uid, gid := os.Getuid(), os.Getgid()
	fileCaps := os.Geteuid() == uid // else set-user-ID
	if err := applet.DropToCaller(uid, gid, applet.CapNetAdmin|applet.CapSysAdmin); err != nil {
		return capFailure(err)
	}
	p, done, err := parse(e)
	if err != nil || done {
		return err
	}
	if err := userAllowed(p); err != nil {
		return err
	}
	a := &actor{e: e, p: p, owner: &netsetup.Owner{UID: uint32(uid)}}
	if p.mode == modeSetup {
		if a.owner.Ports, a.rule, err = policy(uint32(uid), uint32(gid), p.config.Bridge); err != nil {
			return err
		}
	}
	a.pre = make([]opened, len(p.targets))
	defer func() {
		for _, o := range a.pre {
			o.t.Close()
		}
	}()
	for i, spec := range p.targets {
		if p.mode != modeSetup && a.isHostEnd(spec) {
			continue
		}
		a.pre[i].t, a.pre[i].err = usernet.OpenTarget(spec, uint32(uid))
	}
	if err := openInside(a.pre, fileCaps); err != nil {
		return err
	}
	if p.mode == modeDelete {
		return a.delete()
	}
	return a.setup()
}

// userAllowed refuses what a user may not ask for: the options above, an
// address of their choice, and the modes other than set-up and -d.
func userAllowed(p *plan) error {
	for _, o := range userOptions {
		if p.given(o.name) {
			return applet.Errorf("--%s: not allowed to an unprivileged user: %s", o.name, o.why)
		}
	}
	for _, ad := range p.config.Addrs {
		if !ad.Auto {
			return applet.Errorf("--addr %s: not allowed to an unprivileged user: the address is allocated by mkbridge (--addr auto)", ad.Addr)
		}
	}
	return nil
}

// policy returns how many ports the caller may have on bridge, and the
// rule that says so, refusing a policy file that is not root's alone or
// does not parse, and a bridge no rule gives the caller.
func policy(uid, gid uint32, bridge string) (int, string, error) {
	rules, err := usernet.Read()
	if err != nil {
		var pe *usernet.PathError
		if errors.As(err, &pe) {
			return 0, "", applet.Errorf("bridge %s: not allowed to uid %d: cannot open %s: %s", bridge, uid, pe.Path, applet.Strerror(pe.Err))
		}
		return 0, "", applet.Errorf("%s", err)
	}
	groups, err := unix.Getgroups()
	if err != nil {
		return 0, "", applet.Errorf("getgroups: %s", applet.Strerror(err))
	}
	gids := make([]uint32, len(groups))
	for i, g := range groups {
		gids[i] = uint32(g)
	}
	c := usernet.CallerOf(uid, gid, gids)
	n, rule := usernet.Allowed(rules, c, bridge, usernet.GroupID)
	if rule == nil {
		who := fmt.Sprintf("uid %d", uid)
		if c.Name != "" {
			who += " (" + c.Name + ")"
		}
		return 0, "", applet.Errorf("bridge %s: not allowed to %s: no rule of %s names you and %s", bridge, who, usernet.Path, bridge)
	}
	return n, rule.String(), nil
}

// openInside opens the netlink socket inside each target that was opened,
// with CAP_SYS_ADMIN effective for that alone (setns needs it in the
// caller's user namespace as well as in the target's), then leaves
// CAP_NET_ADMIN alone: in the permitted set of every thread (file
// capabilities: one all-threads capset; set-user-ID: the other threads
// hold nothing already) and effective on this one.
func openInside(pre []opened, fileCaps bool) error {
	if err := applet.SetCaps(applet.CapNetAdmin|applet.CapSysAdmin, applet.CapSysAdmin); err != nil {
		return capFailure(err)
	}
	for i := range pre {
		if pre[i].t == nil {
			continue
		}
		if err := pre[i].t.OpenInside(); err != nil {
			pre[i].t.Close()
			pre[i].t, pre[i].err = nil, err
		}
	}
	if fileCaps {
		if err := applet.CutAllThreads(applet.CapNetAdmin); err != nil {
			return capFailure(err)
		}
	}
	if err := applet.SetCaps(applet.CapNetAdmin, applet.CapNetAdmin); err != nil {
		return capFailure(err)
	}
	return nil
}

func capFailure(err error) error {
	var ce *applet.CapError
	if errors.As(err, &ce) {
		return applet.Errorf("cannot set capabilities: %s", ce)
	}
	return err
}

// isNetnsName reports whether /run/netns/NAME exists: on the unprivileged
// path a bare name given to -d is a namespace there, else a host end.
func isNetnsName(name string) bool {
	var st unix.Stat_t
	return unix.Lstat(netsetup.TargetPath(name), &st) == nil
}

// explain names the target and the rule in a refusal by quota.
func (a *actor) explain(t *netsetup.Target, err error) error {
	var qe *netsetup.QuotaError
	if errors.As(err, &qe) {
		return &usernet.Refusal{Target: t.Name, Why: qe.Error() + " (" + a.rule + ")"}
	}
	return err
}
