// Package unshare is the unshare applet: run a program in new namespaces,
// with util-linux unshare's options, order of operations, messages and exit
// codes, plus --hostname, --init, --pid-file and --ready-fd for composing
// containers.
package unshare

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/nsexec"
	"github.com/nsbox/nsbox/pkg/reexec"
)

func init() {
	applet.Register(applet.Applet{
		Name:    "unshare",
		Summary: "run a program with some namespaces unshared from the parent",
		Usage:   usage,
		Run:     run,
	})
	reexec.Register("child", nsexec.ChildStage)
	reexec.Register("init", nsexec.InitStage)
	applet.Features = append(applet.Features, nsexec.Feature)
}

const usage = `
Usage:
 unshare [options] [<program> [<argument>...]]

Run a program with some namespaces unshared from the parent.

Options:
 -m, --mount[=<file>]      unshare mounts namespace
 -u, --uts[=<file>]        unshare UTS namespace (hostname etc)
 -i, --ipc[=<file>]        unshare System V IPC namespace
 -n, --net[=<file>]        unshare network namespace
 -p, --pid[=<file>]        unshare pid namespace
 -U, --user[=<file>]       unshare user namespace
 -C, --cgroup[=<file>]     unshare cgroup namespace
 -T, --time[=<file>]       unshare time namespace

 -f, --fork                fork before launching <program>
 --map-user=<uid>|<name>   map current user to uid (implies --user)
 --map-group=<gid>|<name>  map current group to gid (implies --user)
 -r, --map-root-user       map current user to root (implies --user)
 -c, --map-current-user    map current user to itself (implies --user)
 --map-auto                map users and groups automatically (implies --user)
 --map-users=<inneruid>:<outeruid>:<count>
                           map count users from outeruid to inneruid (implies --user;
                             also auto, subids, all)
 --map-groups=<innergid>:<outergid>:<count>
                           map count groups from outergid to innergid (implies --user)
 --map-subids              map users and groups using their subordinate ids (implies --user)
 --owner=<uid>:<gid>       the user namespace belongs to this user and group
                             (as root; implies --user)

 --kill-child[=<signame>]  when dying, kill the forked child (implies --fork)
                             defaults to SIGKILL
 --forward-signals         forward SIGTERM and SIGINT to the child (implies --fork)
 --mount-proc[=<dir>]      mount proc filesystem first (implies --mount)
 --mount-binfmt[=<dir>]    mount binfmt filesystem first (implies --user and --mount)
 -l, --load-interp=<file>  load binfmt definition in the namespace (implies --mount-binfmt)
 --propagation slave|shared|private|unchanged
                           modify mount propagation in mount namespace
 --setgroups allow|deny    control the setgroups syscall in user namespaces
 --keep-caps               retain capabilities granted in user namespaces

 -R, --root=<dir>          run the command with root directory set to <dir>
 -w, --wd=<dir>            change working directory to <dir>
 -S, --setuid <uid>        set uid in entered namespace
 -G, --setgid <gid>        set gid in entered namespace
 --monotonic <offset>      set clock monotonic offset (seconds) in time namespaces
 --boottime <offset>       set clock boottime offset (seconds) in time namespaces
 --clear-env               clear the environment
 --whitelist-env <list>    keep only the comma-separated variables of <list>

nsbox extras:
 --hostname <name>         set the host name in the new UTS namespace (implies --uts)
 --init                    run <program> under a minimal init that reaps zombies
                             and forwards signals (with --fork, the init is PID 1)
 --pid-file <file>         write the PID of the started process to <file> once
                             every namespace, map and pin exists
 --ready-fd <fd>           write that PID to file descriptor <fd>, then close it

 -h, --help                display this help
 -V, --version             display version

For more details see unshare(1) and docs/unshare.md.
`

func run(e *applet.Env) error {
	fs := applet.NewFlags(e)
	nsopts := applet.NamespaceFlags(fs, []string{"mount", "uts", "ipc", "net", "pid", "user", "cgroup", "time"}, false)
	fork := fs.BoolP("fork", "f", false, "")
	mapUser := fs.String("map-user", "", "")
	mapGroup := fs.String("map-group", "", "")
	mapRoot := fs.BoolP("map-root-user", "r", false, "")
	mapCurrent := fs.BoolP("map-current-user", "c", false, "")
	mapAuto := fs.Bool("map-auto", false, "")
	mapSubids := fs.Bool("map-subids", false, "")
	fs.StringArray("map-users", nil, "")
	fs.StringArray("map-groups", nil, "")
	var rm rangeMaps
	applet.Check(fs, "map-users", func(v string) error {
		rs, err := parseRangeSpec("uid", v)
		rm.uid = append(rm.uid, rs...)
		return err
	})
	applet.Check(fs, "map-groups", func(v string) error {
		rs, err := parseRangeSpec("gid", v)
		rm.gid = append(rm.gid, rs...)
		return err
	})
	fs.String("owner", "", "")
	var ownerUID, ownerGID uint32
	killChild := fs.String("kill-child", "", "")
	fs.Lookup("kill-child").NoOptDefVal = "KILL"
	forward := fs.Bool("forward-signals", false, "")
	mountProc := fs.String("mount-proc", "", "")
	fs.Lookup("mount-proc").NoOptDefVal = "/proc"
	mountBinfmt := fs.String("mount-binfmt", "", "")
	fs.Lookup("mount-binfmt").NoOptDefVal = "/proc/sys/fs/binfmt_misc"
	loadInterp := fs.StringP("load-interp", "l", "", "")
	propagation := fs.String("propagation", "", "")
	setgroups := fs.String("setgroups", "", "")
	keepCaps := fs.Bool("keep-caps", false, "")
	root := fs.StringP("root", "R", "", "")
	wd := fs.StringP("wd", "w", "", "")
	setuid := fs.StringP("setuid", "S", "", "")
	setgid := fs.StringP("setgid", "G", "", "")
	monotonic := fs.String("monotonic", "", "")
	boottime := fs.String("boottime", "", "")
	clearEnv := fs.Bool("clear-env", false, "")
	whitelist := fs.String("whitelist-env", "", "")
	hostname := fs.String("hostname", "", "")
	initOpt := fs.Bool("init", false, "")
	pidFile := fs.String("pid-file", "", "")
	readyFd := fs.String("ready-fd", "", "")

	// util-linux checks each value as it reads the option.
	applet.Check(fs, "owner", func(v string) error {
		u, g, ok := parseOwner(v)
		ownerUID, ownerGID = u, g
		return okOr(0, ok)("failed to parse owner")
	})
	applet.Check(fs, "map-user", func(v string) error { return okOr(idmap.UserID(v))("failed to parse uid: '%s'", v) })
	applet.Check(fs, "map-group", func(v string) error { return okOr(idmap.GroupID(v))("failed to parse gid: '%s'", v) })
	applet.Check(fs, "setuid", func(v string) error { return okOr(idmap.ParseID(v))("failed to parse uid: '%s'", v) })
	applet.Check(fs, "setgid", func(v string) error { return okOr(idmap.ParseID(v))("failed to parse gid: '%s'", v) })
	applet.Check(fs, "propagation", func(v string) error {
		if _, ok := propagationFlags[v]; !ok {
			return applet.Errorf("unsupported propagation mode: %s", v)
		}
		return nil
	})
	applet.Check(fs, "setgroups", func(v string) error {
		if v != "allow" && v != "deny" {
			return applet.Errorf("unsupported --setgroups argument '%s'", v)
		}
		return nil
	})
	for _, n := range []string{"monotonic", "boottime"} {
		applet.Check(fs, n, func(v string) error {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return applet.Errorf("failed to parse %s offset: '%s'", n, v)
			}
			return nil
		})
	}
	applet.Check(fs, "kill-child", func(v string) error {
		_, ok := signalNumber(v)
		return okOr(0, ok)("unknown signal: %s", v)
	})
	applet.Check(fs, "ready-fd", func(v string) error {
		fd, err := strconv.Atoi(v)
		return okOr(0, err == nil && fd >= 0)("invalid file descriptor: '%s'", v)
	})

	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return err
	}

	p := nsexec.NewPlan(e.Name)
	var flags uintptr
	var pins []*applet.NsFlag
	for _, n := range nsopts {
		if fs.Changed(n.Long) {
			flags |= n.Type.Flag()
			if n.Val != applet.NoFile {
				pins = append(pins, n)
			}
		}
	}
	if fs.Changed("mount-proc") {
		flags |= unix.CLONE_NEWNS
		p.ProcDir = *mountProc
	}
	if fs.Changed("load-interp") {
		if !fs.Changed("mount-binfmt") {
			*mountBinfmt = "/proc/sys/fs/binfmt_misc"
		}
		p.Interp = *loadInterp
	}
	if fs.Changed("mount-binfmt") || fs.Changed("load-interp") {
		flags |= unix.CLONE_NEWNS | unix.CLONE_NEWUSER
		p.BinfmtDir = *mountBinfmt
	}
	if fs.Changed("hostname") {
		flags |= unix.CLONE_NEWUTS
		p.SetHostname, p.Hostname = true, *hostname
	}

	// Maps: the caller's effective ids, as util-linux maps them.
	euid, egid := uint32(os.Geteuid()), uint32(os.Getegid())
	var uidMap, gidMap *idmap.Single
	if fs.Changed("map-user") {
		id, _ := idmap.UserID(*mapUser)
		uidMap = &idmap.Single{Inside: id, Outside: euid}
	}
	if fs.Changed("map-group") {
		id, _ := idmap.GroupID(*mapGroup)
		gidMap = &idmap.Single{Inside: id, Outside: egid}
	}
	if *mapRoot {
		uidMap = &idmap.Single{Inside: 0, Outside: euid}
		gidMap = &idmap.Single{Inside: 0, Outside: egid}
	}
	if *mapCurrent {
		uidMap = &idmap.Single{Inside: euid, Outside: euid}
		gidMap = &idmap.Single{Inside: egid, Outside: egid}
	}
	for _, a := range []struct {
		set  bool
		spec string
	}{{*mapAuto, "auto"}, {*mapSubids, "subids"}} {
		if !a.set {
			continue
		}
		for _, k := range []struct {
			kind string
			dst  *[]idmap.Range
		}{{"uid", &rm.uid}, {"gid", &rm.gid}} {
			rs, err := parseRangeSpec(k.kind, a.spec)
			if err != nil {
				return err
			}
			*k.dst = append(*k.dst, rs...)
		}
	}
	if fs.Changed("owner") {
		// The privileged parent (or map helper) writes every map: the
		// new namespace's owner could not map the caller's ids.
		flags |= unix.CLONE_NEWUSER
		rm.uid, rm.gid = withSingle(rm.uid, uidMap), withSingle(rm.gid, gidMap)
		uidMap, gidMap = nil, nil
	}
	var ranges *rangeMaps
	if !rm.empty() {
		// Whole ranges are written from outside; the one-id maps join them.
		if len(rm.gid) == 0 && gidMap != nil && *setgroups == "" {
			*setgroups = "deny" // as --map-group alone implies
		}
		rm.uid, rm.gid = withSingle(rm.uid, uidMap), withSingle(rm.gid, gidMap)
		uidMap, gidMap, ranges = nil, nil, &rm
		flags |= unix.CLONE_NEWUSER
	}
	if uidMap != nil || gidMap != nil {
		flags |= unix.CLONE_NEWUSER
	}
	if *setgroups == "allow" && gidMap != nil {
		return applet.Errorf("options --setgroups=allow and --map-group are mutually exclusive")
	}
	p.Setgroups = *setgroups

	if flags&unix.CLONE_NEWNS != 0 { // util-linux ignores it without -m
		p.Propagation = propagationFlags[*propagation]
	}

	if fs.Changed("monotonic") || fs.Changed("boottime") {
		if flags&unix.CLONE_NEWTIME == 0 {
			return applet.Errorf("options --monotonic and --boottime require unsharing of a time namespace (-T)")
		}
		p.TimeOffsets = true
		p.Monotonic, _ = strconv.ParseInt(*monotonic, 10, 64)
		p.Boottime, _ = strconv.ParseInt(*boottime, 10, 64)
	}

	if fs.Changed("kill-child") {
		p.Pdeathsig, _ = signalNumber(*killChild)
		*fork = true
	}
	if *forward {
		*fork = true
	}
	if fs.Changed("setgid") {
		id, _ := idmap.ParseID(*setgid)
		p.Gid = int(id)
	}
	if fs.Changed("setuid") {
		id, _ := idmap.ParseID(*setuid)
		p.Uid = int(id)
	}
	p.Root, p.Wd = *root, *wd
	p.KeepCaps = *keepCaps && flags&unix.CLONE_NEWUSER != 0
	p.Init = *initOpt

	// The program and its environment.
	p.Env = os.Environ()
	if *clearEnv {
		p.Env = nil
	}
	if fs.Changed("whitelist-env") {
		p.Env = whitelistEnv(os.Environ(), *whitelist)
	}
	if len(rest) > 0 {
		p.Path, p.Argv = rest[0], rest
	} else {
		p.Path = idmap.Shell()
		p.Argv = []string{"-" + filepath.Base(p.Path)}
	}

	var notify []*os.File
	if fs.Changed("ready-fd") {
		fd, _ := strconv.Atoi(*readyFd)
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return applet.Errorf("--ready-fd %d: %s", fd, applet.Strerror(err))
		}
		notify = append(notify, os.NewFile(uintptr(fd), "ready-fd"))
	}
	if fs.Changed("pid-file") {
		f, err := os.OpenFile(*pidFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW, 0o644)
		if err != nil {
			return applet.Errorf("cannot open %s: %s", *pidFile, applet.Strerror(err))
		}
		notify = append(notify, f)
	}

	l := &launch{plan: p, flags: flags, fork: *fork, forward: *forward, uidMap: uidMap, gidMap: gidMap, ranges: ranges, notify: notify}
	if fs.Changed("owner") {
		l.owner = &[2]uint32{ownerUID, ownerGID}
	}
	for _, n := range pins {
		l.pins = append(l.pins, pinReq{typ: n.Type, path: n.Val})
	}
	return l.run()
}

// propagationFlags maps --propagation's words to mount flags for "/";
// the default is private.
var propagationFlags = map[string]uintptr{
	"": unix.MS_PRIVATE, "private": unix.MS_PRIVATE, "slave": unix.MS_SLAVE,
	"shared": unix.MS_SHARED, "unchanged": 0,
}

func validPropagation(s string) bool {
	_, ok := propagationFlags[s]
	return ok
}

// okOr returns a function that makes the error message when ok is false.
func okOr[T any](_ T, ok bool) func(format string, args ...any) error {
	return func(format string, args ...any) error {
		if ok {
			return nil
		}
		return applet.Errorf(format, args...)
	}
}

// parseOwner reads --owner's uid:gid: two unsigned decimal numbers (util-linux
// reads them with "%u:%u").
func parseOwner(v string) (uid, gid uint32, ok bool) {
	us, gs, found := strings.Cut(v, ":")
	u, err1 := strconv.ParseUint(us, 10, 32)
	g, err2 := strconv.ParseUint(gs, 10, 32)
	return uint32(u), uint32(g), found && err1 == nil && err2 == nil
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

// signalNumber parses a signal as util-linux does: a name with or without
// "SIG" (and its aliases IOT, CLD, POLL, RTMIN+n, RTMAX-n); nsbox also takes
// a number.
func signalNumber(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, n > 0 && n < 65
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	switch name {
	case "IOT":
		return int(unix.SIGABRT), true
	case "CLD":
		return int(unix.SIGCHLD), true
	case "POLL":
		return int(unix.SIGIO), true
	case "RTMIN":
		return 34, true
	case "RTMAX":
		return 64, true
	}
	for base, sign := range map[string]int{"RTMIN+": 1, "RTMAX-": -1} {
		if rest, ok := strings.CutPrefix(name, base); ok {
			n, err := strconv.Atoi(rest)
			sig := 34
			if sign < 0 {
				sig = 64
			}
			sig += sign * n
			return sig, err == nil && n >= 0 && sig >= 34 && sig <= 64
		}
	}
	for i := 1; i < 65; i++ {
		if strings.TrimPrefix(unix.SignalName(syscall.Signal(i)), "SIG") == name && name != "" {
			return i, true
		}
	}
	return 0, false
}
