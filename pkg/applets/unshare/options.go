package unshare

import (
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/ns"
)

// options are an unshare command line as read. Each value is parsed and
// checked when its option is read, so that a bad value is reported where
// util-linux reports it, before any later option is looked at. A pointer
// is nil for an option not given.
type options struct {
	name       string     // the applet's name, the prefix of every message
	namespaces []nsOption // -m, -u, -i, -n, -p, -U, -C, -T in that order

	fork, forward bool
	killChild     int // --kill-child's signal; 0: not given

	mapUser, mapGroup *uint32
	mapRoot           bool // -r
	mapCurrent        bool // -c
	mapAuto           bool
	mapSubids         bool
	ranges            rangeMaps  // --map-users, --map-groups, in the order given
	owner             *[2]uint32 // uid, gid

	mountProc, mountBinfmt, loadInterp *string
	binfmtProc                         bool   // a bare --mount-binfmt or -l asks for /proc too (2.43)
	propagation                        string // "" or a key of propagationFlags
	setgroups                          string // "", "allow" or "deny"
	keepCaps                           bool

	root, wd            string
	setuid, setgid      int  // -1: not given
	timeOffsets         bool // --monotonic or --boottime given
	monotonic, boottime int64
	clearEnv            bool
	whitelistEnv        *string

	hostname *string
	init     bool
	pidFile  *string
	readyFd  int // -1: not given
	statusFd int // --json-status-fd; -1: not given

	program []string // the program and its arguments; empty: the shell
}

// nsOption is one namespace option given: the namespace, and the file to
// pin it on (applet.NoFile: none).
type nsOption struct {
	typ  ns.Type
	file string
}

// parseOptions reads e.Args. done is true when --help or --version was
// answered. Nothing happens here but reading: applet.Options runs it to
// learn the option table.
func parseOptions(e *applet.Env) (o *options, done bool, err error) {
	o = &options{name: e.Name, setuid: -1, setgid: -1, readyFd: -1, statusFd: -1}
	fs := applet.NewFlags(e)
	// The definition order is getopt's order in "ambiguous" messages.
	nsFlags := applet.NamespaceFlags(fs, []string{"mount", "uts", "ipc", "net", "pid", "user", "cgroup", "time"}, false)
	fs.BoolVarP(&o.fork, "fork", "f", false, "")
	o.defineMaps(fs)
	o.defineSetup(fs)
	o.defineProgram(fs)
	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return nil, done, err
	}
	for _, n := range nsFlags {
		if fs.Changed(n.Long) {
			o.namespaces = append(o.namespaces, nsOption{typ: n.Type, file: n.Val})
		}
	}
	o.program = rest
	return o, false, nil
}

// defineMaps defines the user-namespace options: the id maps and --owner.
func (o *options) defineMaps(fs *pflag.FlagSet) {
	value(fs, "map-user", "", func(v string) error {
		id, ok := idmap.UserID(v)
		o.mapUser = &id
		return failIf(!ok, "failed to parse uid: '%s'", v)
	})
	value(fs, "map-group", "", func(v string) error {
		id, ok := idmap.GroupID(v)
		o.mapGroup = &id
		return failIf(!ok, "failed to parse gid: '%s'", v)
	})
	fs.BoolVarP(&o.mapRoot, "map-root-user", "r", false, "")
	fs.BoolVarP(&o.mapCurrent, "map-current-user", "c", false, "")
	fs.BoolVar(&o.mapAuto, "map-auto", false, "")
	fs.BoolVar(&o.mapSubids, "map-subids", false, "")
	value(fs, "map-users", "", func(v string) error {
		rs, err := parseRangeSpec("uid", v)
		o.ranges.uid = append(o.ranges.uid, rs...)
		return err
	})
	value(fs, "map-groups", "", func(v string) error {
		rs, err := parseRangeSpec("gid", v)
		o.ranges.gid = append(o.ranges.gid, rs...)
		return err
	})
	value(fs, "owner", "", func(v string) error {
		uid, gid, ok := parseOwner(v)
		o.owner = &[2]uint32{uid, gid}
		return failIf(!ok, "failed to parse owner")
	})
}

// defineSetup defines the options of the fork and of the setup inside the
// new namespaces.
func (o *options) defineSetup(fs *pflag.FlagSet) {
	value(fs, "kill-child", "", func(v string) error {
		sig, ok := signalNumber(v)
		o.killChild = sig
		return failIf(!ok, "unknown signal: %s", v)
	}).NoOptDefVal = "KILL"
	fs.BoolVar(&o.forward, "forward-signals", false, "")
	given(fs, "mount-proc", "", &o.mountProc).NoOptDefVal = "/proc"
	// util-linux 2.43: --mount-binfmt without a directory, and -l before
	// any --mount-binfmt, mount binfmt_misc on a new /proc, unless
	// --mount-proc names the proc mount.
	value(fs, "mount-binfmt", "", func(v string) error {
		if v == applet.NoFile {
			v, o.binfmtProc = binfmtDir, true
		}
		o.mountBinfmt = &v
		return nil
	}).NoOptDefVal = applet.NoFile
	value(fs, "load-interp", "l", func(v string) error {
		if o.mountBinfmt == nil {
			dir := binfmtDir
			o.mountBinfmt, o.binfmtProc = &dir, true
		}
		o.loadInterp = &v
		return nil
	})
	value(fs, "propagation", "", func(v string) error {
		o.propagation = v
		return failIf(!validPropagation(v), "unsupported propagation mode: %s", v)
	})
	value(fs, "setgroups", "", func(v string) error {
		o.setgroups = v
		return failIf(v != "allow" && v != "deny", "unsupported --setgroups argument '%s'", v)
	})
	fs.BoolVar(&o.keepCaps, "keep-caps", false, "")
}

// defineProgram defines the options about the program: where and as whom
// it runs, its clocks, its environment, and how others learn its PID.
func (o *options) defineProgram(fs *pflag.FlagSet) {
	fs.StringVarP(&o.root, "root", "R", "", "")
	fs.StringVarP(&o.wd, "wd", "w", "", "")
	value(fs, "setuid", "S", func(v string) error { return parseID(&o.setuid, v, "uid") })
	value(fs, "setgid", "G", func(v string) error { return parseID(&o.setgid, v, "gid") })
	for _, c := range []struct {
		name string
		dst  *int64
	}{{"monotonic", &o.monotonic}, {"boottime", &o.boottime}} {
		value(fs, c.name, "", func(v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			*c.dst, o.timeOffsets = n, true
			return failIf(err != nil, "failed to parse %s offset: '%s'", c.name, v)
		})
	}
	fs.BoolVar(&o.clearEnv, "clear-env", false, "")
	given(fs, "whitelist-env", "", &o.whitelistEnv)
	given(fs, "hostname", "", &o.hostname)
	fs.BoolVar(&o.init, "init", false, "")
	given(fs, "pid-file", "", &o.pidFile)
	for _, f := range []struct {
		name string
		dst  *int
	}{{"ready-fd", &o.readyFd}, {"json-status-fd", &o.statusFd}} {
		value(fs, f.name, "", func(v string) error {
			fd, err := strconv.Atoi(v)
			*f.dst = fd
			return failIf(err != nil || fd < 0, "invalid file descriptor: '%s'", v)
		})
	}
}

// binfmtDir is where --mount-binfmt and --load-interp mount binfmt_misc
// by default.
const binfmtDir = "/proc/sys/fs/binfmt_misc"

// value defines a string option whose every value goes to read, which
// parses and keeps it, or says what is wrong with it.
func value(fs *pflag.FlagSet, long, short string, read func(v string) error) *pflag.Flag {
	fs.StringP(long, short, "", "")
	applet.Check(fs, long, read)
	return fs.Lookup(long)
}

// given defines a string option whose value is kept in *dst, which stays
// nil when the option is not given.
func given(fs *pflag.FlagSet, long, short string, dst **string) *pflag.Flag {
	return value(fs, long, short, func(v string) error {
		*dst = &v
		return nil
	})
}

// failIf returns the error of a value that failed to parse, or nil.
func failIf(bad bool, format string, args ...any) error {
	if bad {
		return applet.Errorf(format, args...)
	}
	return nil
}

// parseID reads -S and -G: a number only (util-linux takes no name there).
func parseID(dst *int, v, kind string) error {
	id, ok := idmap.ParseID(v)
	*dst = int(id)
	return failIf(!ok, "failed to parse %s: '%s'", kind, v)
}

// parseOwner reads --owner's uid:gid: two unsigned decimal numbers (util-linux
// reads them with "%u:%u").
func parseOwner(v string) (uid, gid uint32, ok bool) {
	us, gs, found := strings.Cut(v, ":")
	u, err1 := strconv.ParseUint(us, 10, 32)
	g, err2 := strconv.ParseUint(gs, 10, 32)
	return uint32(u), uint32(g), found && err1 == nil && err2 == nil
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
