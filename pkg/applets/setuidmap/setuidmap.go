// Package setuidmap is the setuidmap applet: it writes the uid_map, gid_map
// and setgroups files of another process's user namespace from the
// caller's /etc/subuid and /etc/subgid blocks, with the checks of
// BEHAVIOUR.md §9 ("the setuidmap bar"). It is the one applet meant to run
// from a set-user-ID root (or file-capability) install; it is also
// newuidmap and newgidmap when called by those names.
package setuidmap

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/idmap"
)

const usage = `Usage:
 setuidmap [options] <pid>|fd:<N>

Write the uid and gid maps of the user namespace of a process you own,
from your blocks in /etc/subuid and /etc/subgid.

Options:
 -u, --uid <range>        a uid map range (repeatable):
                            <inside>:<outside>:<count>
                            auto    your first /etc/subuid block from 0
                            subids  your first /etc/subuid block, identity
 -g, --gid <range>        a gid map range (repeatable), as --uid, /etc/subgid
     --rootless           both maps: 0 = you, 1..N = your first block
     --setgroups deny     write deny to setgroups even when a gid range
                            comes from /etc/subgid (allow is never written)
     --dry-run            print the lines that would be written, and why
                            each range is allowed; write nothing
     --allow-root-target  (root only) skip the target owner check and the
                            subordinate-id check
 -h, --help               display this help
 -V, --version            display version

A range is allowed when its outside ids lie in your /etc/subuid (or
/etc/subgid) blocks, or when it is one id: your own real uid (gid).
A gid map with no /etc/subgid range sets setgroups to deny first.

For more details see setuidmap(1) (docs/setuidmap.md).
`

func compatUsage(name string) string {
	low := "loweruid"
	if name == "newgidmap" {
		low = "lowergid"
	}
	return fmt.Sprintf("usage: %s <pid|fd:<pidfd>> <%s> <%s> <count> [ <%s> <%s> <count> ] ... \n",
		name, low[5:], low, low[5:], low)
}

func init() {
	applet.Register(applet.Applet{Name: "setuidmap", Summary: "write the uid and gid maps of a user namespace from /etc/subuid and /etc/subgid",
		Usage: usage, Run: run, Privileged: true})
	// newuidmap and newgidmap are hidden: "nsbox --install" must not
	// shadow shadow's helpers; link them by hand to stand in for them.
	for _, n := range []string{"newuidmap", "newgidmap"} {
		applet.Register(applet.Applet{Name: n, Summary: "setuidmap with " + n + "'s arguments",
			Usage: compatUsage(n), Run: runCompat, Privileged: true, Hidden: true})
	}
}

// request is one call, from either argument form.
type request struct {
	compat      bool
	target      string
	uid, gid    []string // setuidmap specs, or triples' words (compat)
	hasUID      bool
	hasGID      bool
	rootless    bool
	forceDeny   bool
	dryRun      bool
	allowRoot   bool
	kindCompat  string // "uid" or "gid" (compat)
	stdout      io.Writer
	targetLabel string
}

func run(e *applet.Env) error {
	fs := applet.NewFlags(e)
	uids := fs.StringArrayP("uid", "u", nil, "")
	gids := fs.StringArrayP("gid", "g", nil, "")
	rootless := fs.Bool("rootless", false, "")
	setgroups := fs.String("setgroups", "", "")
	dryRun := fs.Bool("dry-run", false, "")
	allowRoot := fs.Bool("allow-root-target", false, "")
	applet.Check(fs, "setgroups", func(v string) error {
		if v != "deny" {
			return applet.Errorf("unsupported --setgroups argument '%s': only deny (setuidmap never writes allow)", v)
		}
		return nil
	})
	applet.Check(fs, "allow-root-target", func(string) error {
		if os.Getuid() != 0 {
			return applet.Errorf("--allow-root-target is for root only")
		}
		return nil
	})
	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return err
	}
	switch {
	case len(rest) == 0:
		return applet.Usagef("no target process specified")
	case len(rest) > 1:
		return applet.Usagef("unexpected argument '%s'", rest[1])
	case *rootless && (len(*uids) > 0 || len(*gids) > 0):
		return applet.Usagef("mutually exclusive arguments: --rootless --uid --gid")
	case !*rootless && len(*uids) == 0 && len(*gids) == 0:
		return applet.Usagef("nothing to map: give --uid, --gid or --rootless")
	}
	return do(&request{target: rest[0], uid: *uids, gid: *gids, hasUID: len(*uids) > 0 || *rootless,
		hasGID: len(*gids) > 0 || *rootless, rootless: *rootless, forceDeny: *setgroups == "deny",
		dryRun: *dryRun, allowRoot: *allowRoot, stdout: e.Stdout})
}

// runCompat is newuidmap/newgidmap: "PID inside outside count [...]", no
// options.
func runCompat(e *applet.Env) error {
	kind := "uid"
	if e.Name == "newgidmap" {
		kind = "gid"
	}
	switch {
	case len(e.Args) == 1 && (e.Args[0] == "--help" || e.Args[0] == "-h"):
		io.WriteString(e.Stdout, compatUsage(e.Name))
		return nil
	case len(e.Args) < 1:
		// shadow prints its usage line, unprefixed, and fails.
		io.WriteString(e.Stderr, compatUsage(e.Name))
		return &applet.Exit{Code: 1}
	}
	r := &request{compat: true, target: e.Args[0], kindCompat: kind, stdout: e.Stdout}
	if kind == "uid" {
		r.uid, r.hasUID = e.Args[1:], true
	} else {
		r.gid, r.hasGID = e.Args[1:], true
	}
	return do(r)
}

// msg picks newuidmap's wording under that name, else setuidmap's.
func (r *request) msg(ours, theirs string) string {
	if r.compat {
		return theirs
	}
	return ours
}

// openTarget is check 1: the target is opened once, as a directory, and
// everything later is relative to that fd. fd:N must already be a /proc/PID
// directory on procfs.
func (r *request) openTarget() (int, error) {
	if n, ok := strings.CutPrefix(r.target, "fd:"); ok {
		fd, err := strconv.Atoi(n)
		if err != nil || fd < 0 || n != strconv.Itoa(fd) {
			return -1, applet.Usagef("invalid target '%s': expected a PID or fd:N", r.target)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return -1, applet.Errorf("%s: %s", r.target, applet.Strerror(err))
		}
		var sfs unix.Statfs_t
		if st.Mode&unix.S_IFMT != unix.S_IFDIR || unix.Fstatfs(fd, &sfs) != nil || sfs.Type != unix.PROC_SUPER_MAGIC {
			return -1, applet.Errorf("%s is not a /proc/PID directory", r.target)
		}
		var mst unix.Stat_t
		if unix.Fstatat(fd, "uid_map", &mst, unix.AT_SYMLINK_NOFOLLOW) != nil || mst.Mode&unix.S_IFMT != unix.S_IFREG {
			return -1, applet.Errorf("%s is not a /proc/PID directory", r.target)
		}
		r.targetLabel = r.target
		return fd, nil
	}
	pid, err := strconv.Atoi(r.target)
	if err != nil || pid < 1 || r.target != strconv.Itoa(pid) || pid > 1<<31-1 {
		if r.compat {
			return -1, &applet.Exit{Code: 1, Msg: "invalid target '" + r.target + "'"}
		}
		return -1, applet.Usagef("invalid target '%s': expected a PID or fd:N", r.target)
	}
	r.targetLabel = "target " + r.target
	fd, err := unix.Open("/proc/"+r.target, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, applet.Errorf("%s: %s", r.msg("could not open proc directory for target "+r.target,
			"Could not open proc directory for target "+r.target), applet.Strerror(err))
	}
	return fd, nil
}

func (r *request) name() string {
	if r.kindCompat == "gid" {
		return "newgidmap"
	}
	return "newuidmap"
}

// mapping is one map file to write.
type mapping struct {
	kind, file string // "uid", "uid_map"
	ranges     []idmap.Range
	why        []idmap.Reason
	warnings   []string // the caller's blocks shared with other users
	fromSub    bool
}

func do(r *request) error {
	runtime.LockOSThread() // the capabilities kept below are this thread's
	// 1. The target, opened once.
	dirfd, err := r.openTarget()
	if err != nil {
		return err
	}
	// 2. Identity: the real ids only.
	ruid, rgid := uint32(unix.Getuid()), uint32(unix.Getgid())
	name := ""
	if pw, ok := idmap.UserByID(ruid); ok {
		name = pw.Name
	}
	// 3. The target must be the caller's.
	var st unix.Stat_t
	if err := unix.Fstat(dirfd, &st); err != nil {
		return applet.Errorf("%s: %s", r.msg("could not stat directory for "+r.targetLabel,
			"Could not stat directory for target process"), applet.Strerror(err))
	}
	rootSkip := r.allowRoot && ruid == 0
	if !rootSkip && (st.Uid != ruid || st.Gid != rgid) {
		if r.compat {
			// shadow's words; its pw_uid/pw_gid are the real ids here.
			return applet.Errorf("Target process %s is owned by a different user: uid:%d pw_uid:%d st_uid:%d, gid:%d pw_gid:%d st_gid:%d",
				r.target, ruid, ruid, st.Uid, rgid, rgid, st.Gid)
		}
		return applet.Errorf("%s is owned by a different user: uid:%d st_uid:%d, gid:%d st_gid:%d",
			r.targetLabel, ruid, st.Uid, rgid, st.Gid)
	}
	// 4. Strict parsing, 5. authorisation.
	var maps []*mapping
	if r.hasUID {
		m, err := r.build("uid", r.uid, idmap.SubUIDFile, name, ruid, ruid, rootSkip)
		if err != nil {
			return err
		}
		maps = append(maps, m)
	}
	if r.hasGID {
		m, err := r.build("gid", r.gid, idmap.SubGIDFile, name, ruid, rgid, rootSkip)
		if err != nil {
			return err
		}
		maps = append(maps, m)
	}
	// 6. setgroups: deny for a gid map that uses no subgid range.
	deny := ""
	for _, m := range maps {
		if m.kind == "gid" {
			switch {
			case !m.fromSub:
				deny = "the gid map uses no /etc/subgid range"
			case r.forceDeny:
				deny = "--setgroups deny"
			}
		}
	}
	if r.dryRun {
		return r.print(maps, deny)
	}
	// 7. Drop to the caller with only the capability each write needs.
	secure := applet.Secure()
	if secure {
		if err := dropToCaller(int(ruid), int(rgid), maps); err != nil {
			return err
		}
	}
	if deny != "" {
		if err := setCaps(secure, nil, maps); err != nil {
			return err
		}
		if err := write(dirfd, "setgroups", "deny"); err != nil {
			return err
		}
	}
	// 8. One write per map: the gid map first (it keeps CAP_SETGID only),
	// then the uid map (CAP_SETUID, and CAP_SETFCAP for outside 0).
	for i := len(maps) - 1; i >= 0; i-- {
		if err := setCaps(secure, maps[i], maps[:i+1]); err != nil {
			return err
		}
		if err := write(dirfd, maps[i].file, idmap.Render(maps[i].ranges)); err != nil {
			return err
		}
	}
	return setCaps(secure, nil, nil)
}

// build parses and authorises one map.
func (r *request) build(kind string, specs []string, file, name string, uid, own uint32, skip bool) (*mapping, error) {
	m := &mapping{kind: kind, file: kind + "_map"}
	subs, subErr := idmap.SubIDs(file, name, uid)
	needSubs := func() error {
		if subErr != nil {
			return applet.Errorf("cannot open %s: %s", file, applet.Strerror(subErr))
		}
		if len(subs) == 0 {
			who := name
			if who == "" {
				who = "uid " + strconv.FormatUint(uint64(uid), 10)
			}
			return applet.Errorf("no %s block for %s", file, who)
		}
		return nil
	}
	var err error
	switch {
	case r.compat:
		m.ranges, err = idmap.ParseTriples(specs)
	case r.rootless:
		if err := needSubs(); err != nil {
			return nil, err
		}
		m.ranges = idmap.Rootless(own, subs)
		err = idmap.CheckRanges(m.ranges)
	default:
		for _, s := range specs {
			switch s {
			case "auto", "subids":
				if err := needSubs(); err != nil {
					return nil, err
				}
				if s == "auto" {
					m.ranges = append(m.ranges, idmap.Auto(subs)...)
				} else {
					m.ranges = append(m.ranges, idmap.Subids(subs)...)
				}
			default:
				rg, err := idmap.ParseRange(s)
				if err != nil {
					return nil, applet.Errorf("%s", err)
				}
				m.ranges = append(m.ranges, rg)
			}
		}
		err = idmap.CheckRanges(m.ranges)
	}
	if err != nil {
		if r.compat && strings.Contains(err.Error(), "overflow") {
			return nil, applet.Errorf("subuid overflow detected.")
		}
		if msg := err.Error(); strings.HasPrefix(msg, "invalid range") || strings.HasPrefix(msg, "Not enough") {
			return nil, applet.Errorf("%s", msg)
		}
		return nil, applet.Errorf("%s map: %s", kind, err)
	}
	for _, rg := range m.ranges {
		if skip {
			m.why = append(m.why, idmap.Reason{Why: "--allow-root-target: root is not checked"})
			continue
		}
		why, err := idmap.Authorize(kind, file, rg, subs, own)
		if err != nil {
			if subErr != nil && !os.IsNotExist(subErr) {
				return nil, applet.Errorf("cannot open %s: %s", file, applet.Strerror(subErr))
			}
			return nil, applet.Errorf("%s", err)
		}
		m.why = append(m.why, why)
		m.fromSub = m.fromSub || why.FromSub
	}
	if r.dryRun && len(subs) > 0 {
		if w, err := idmap.Overlaps(file, subs); err == nil {
			for _, s := range w {
				m.warnings = append(m.warnings, file+": "+s)
			}
		}
	}
	return m, nil
}

func (r *request) print(maps []*mapping, deny string) error {
	w := r.stdout
	for _, m := range maps {
		if m.kind == "gid" {
			if deny != "" {
				fmt.Fprintf(w, "setgroups:\ndeny\n# %s\n", deny)
			} else {
				fmt.Fprintf(w, "# setgroups: not written (stays allow: the gid map uses /etc/subgid ranges)\n")
			}
		}
		fmt.Fprintf(w, "%s:\n%s", m.file, idmap.Render(m.ranges))
		for i, rg := range m.ranges {
			fmt.Fprintf(w, "# %s: %s\n", strings.TrimSuffix(rg.String(), "\n"), m.why[i].Why)
		}
		for _, warn := range m.warnings {
			fmt.Fprintf(w, "# warning: %s\n", warn)
		}
	}
	return nil
}

func capsFor(m *mapping) applet.Caps {
	if m == nil {
		return 0
	}
	if m.kind == "gid" {
		return applet.CapSetgid
	}
	c := applet.CapSetuid
	for _, rg := range m.ranges {
		if rg.Outside == 0 {
			c |= applet.CapSetfcap
		}
	}
	return c
}

// dropToCaller switches every id to the caller's while this thread keeps
// what the maps need (applet.DropToCaller: set-user-ID, or file
// capabilities cut on every thread; the cgo build refuses the latter).
func dropToCaller(uid, gid int, maps []*mapping) error {
	var perm applet.Caps
	for _, m := range maps {
		perm |= capsFor(m)
	}
	err := applet.DropToCaller(uid, gid, perm)
	if ce, ok := err.(*applet.CapError); ok {
		return applet.Errorf("Could not set caps: %s", ce)
	}
	return err
}

// setCaps sets this thread's effective set to what cur needs and the
// permitted set to what maps (the ones still to write) need.
func setCaps(secure bool, cur *mapping, maps []*mapping) error {
	if !secure {
		return nil
	}
	var perm applet.Caps
	for _, m := range maps {
		perm |= capsFor(m)
	}
	if err := applet.SetCaps(perm, capsFor(cur)&perm); err != nil {
		return applet.Errorf("Could not set caps: %s", err)
	}
	return nil
}

// write opens file relative to the target's directory, as the caller, and
// writes data in one write.
func write(dirfd int, file, data string) error {
	fd, err := unix.Openat(dirfd, file, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return applet.Errorf("could not open %s: %s", file, applet.Strerror(err))
	}
	defer unix.Close(fd)
	n, err := unix.Write(fd, []byte(data))
	if err == nil && n != len(data) {
		err = unix.EIO
	}
	if err != nil {
		return applet.Errorf("write to %s failed: %s", file, applet.Strerror(err))
	}
	return nil
}
