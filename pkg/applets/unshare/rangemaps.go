package unshare

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/execpath"
	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/nsexec"
	"github.com/nsbox/nsbox/pkg/reexec"
)

// rangeMaps are --map-users/--map-groups (and --map-auto, --map-subids):
// whole ranges, written from outside the new user namespace, by this
// process when it is root, else by a privileged helper: nsbox's
// set-user-ID setuidmap, or shadow's newuidmap and newgidmap (util-linux's
// helpers).
type rangeMaps struct {
	uid, gid []idmap.Range
}

func (m *rangeMaps) empty() bool { return m == nil || (len(m.uid) == 0 && len(m.gid) == 0) }

// parseRangeSpec reads one --map-users/--map-groups value: auto, subids,
// all, inner:outer:count, or util-linux 2.38's outer,inner,count.
func parseRangeSpec(kind, v string) ([]idmap.Range, error) {
	file, name := idmap.SubUIDFile, ""
	if kind == "gid" {
		file = idmap.SubGIDFile
	}
	if e, ok := idmap.UserByID(uint32(os.Getuid())); ok {
		name = e.Name
	}
	switch v {
	case "auto", "subids":
		subs, err := idmap.SubIDs(file, name, uint32(os.Getuid()))
		if err != nil || len(subs) == 0 {
			return nil, applet.Errorf("no line matching user %q in %s", name, file)
		}
		if v == "auto" {
			return idmap.Auto(subs), nil
		}
		return idmap.Subids(subs), nil
	case "all":
		return parentMap(kind)
	}
	if f := strings.Split(v, ","); len(f) == 3 {
		// util-linux 2.38: outer,inner,count (deprecated since 2.39)
		r, err := idmap.NewRange(f[1], f[0], f[2])
		if err != nil {
			return nil, applet.Errorf("could not parse ID: '%s'", v)
		}
		return []idmap.Range{r}, nil
	}
	r, err := idmap.ParseRange(v)
	if err != nil {
		return nil, applet.Errorf("could not parse ID: '%s'", v)
	}
	return []idmap.Range{r}, nil
}

// parentMap is --map-users=all: every id this namespace has, mapped to
// itself.
func parentMap(kind string) ([]idmap.Range, error) {
	b, err := os.ReadFile("/proc/self/" + kind + "_map")
	if err != nil {
		return nil, applet.Errorf("cannot read /proc/self/%s_map: %s", kind, applet.Strerror(err))
	}
	var rs []idmap.Range
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		r, err := idmap.NewRange(f[0], f[0], f[2])
		if err != nil {
			return nil, applet.Errorf("cannot use /proc/self/%s_map: %v", kind, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// withSingle adds a --map-user/--map-group/-r style one-id map to ranges,
// cutting it out of a range it overlaps as util-linux does
// (idmap.WithSingle).
func withSingle(rs []idmap.Range, s *idmap.Single) []idmap.Range {
	if s == nil {
		return rs
	}
	return idmap.WithSingle(rs, s.Inside, s.Outside)
}

// write writes the maps of process pid: uid first, then setgroups (as
// given, or deny when only the caller's own gid is mapped), then gid.
func (m *rangeMaps) write(pid int, setgroups string) error {
	if len(m.uid) > 0 {
		if err := idmap.CheckRanges(m.uid); err != nil {
			return applet.Errorf("uid map: %v", err)
		}
	}
	if len(m.gid) > 0 {
		if err := idmap.CheckRanges(m.gid); err != nil {
			return applet.Errorf("gid map: %v", err)
		}
	}
	if os.Geteuid() == 0 {
		return m.writeDirect(pid, setgroups)
	}
	if setgroups != "" {
		// An unprivileged owner may deny setgroups in its child namespace.
		if err := idmap.WriteFile(fmt.Sprintf("/proc/%d/setgroups", pid), setgroups); err != nil {
			return applet.Errorf("write failed /proc/%d/setgroups: %s", pid, applet.Strerror(err))
		}
	}
	if helper := privileged("setuidmap"); helper != "" {
		var args []string
		for _, r := range m.uid {
			args = append(args, "-u", r.Spec())
		}
		for _, r := range m.gid {
			args = append(args, "-g", r.Spec())
		}
		return runHelper(helper, append(args, strconv.Itoa(pid)))
	}
	for _, k := range []struct {
		prog string
		rs   []idmap.Range
	}{{"newuidmap", m.uid}, {"newgidmap", m.gid}} {
		if len(k.rs) == 0 {
			continue
		}
		path, err := execpath.LookPath(k.prog, os.Environ())
		if err != nil {
			return applet.Errorf("--map-users/--map-groups need a privileged helper: install nsbox's setuidmap (make install-setuid) or shadow's %s", k.prog)
		}
		args := []string{strconv.Itoa(pid)}
		for _, r := range k.rs {
			args = append(args, strconv.FormatUint(uint64(r.Inside), 10), strconv.FormatUint(uint64(r.Outside), 10), strconv.FormatUint(uint64(r.Count), 10))
		}
		if err := runHelper(path, args); err != nil {
			return err
		}
	}
	return nil
}

func (m *rangeMaps) writeDirect(pid int, setgroups string) error {
	dir := fmt.Sprintf("/proc/%d", pid)
	if len(m.uid) > 0 {
		if err := idmap.WriteFile(dir+"/uid_map", idmap.Render(m.uid)); err != nil {
			return applet.Errorf("write failed %s/uid_map: %s", dir, applet.Strerror(err))
		}
	}
	if setgroups != "" {
		if err := idmap.WriteFile(dir+"/setgroups", setgroups); err != nil {
			return applet.Errorf("write failed %s/setgroups: %s", dir, applet.Strerror(err))
		}
	}
	if len(m.gid) > 0 {
		if err := idmap.WriteFile(dir+"/gid_map", idmap.Render(m.gid)); err != nil {
			return applet.Errorf("write failed %s/gid_map: %s", dir, applet.Strerror(err))
		}
	}
	return nil
}

// privileged returns the path of prog in PATH when it is set-user-ID root
// or carries file capabilities (make install-setuid, install-setcap: a
// helper that can write maps for an unprivileged caller), else "".
func privileged(prog string) string {
	path, err := execpath.LookPath(prog, os.Environ())
	if err != nil {
		return ""
	}
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return ""
	}
	if st.Uid == 0 && st.Mode&unix.S_ISUID != 0 {
		return path
	}
	if n, err := unix.Getxattr(path, "security.capability", nil); err == nil && n > 0 {
		return path
	}
	return ""
}

// runHelper runs a map helper; its own message explains a refusal.
func runHelper(path string, args []string) error {
	st, err := execpath.Run(path, append([]string{path}, args...), nil, nil, os.Stderr, os.Stderr)
	if err != nil {
		return applet.Errorf("cannot run %s: %s", path, applet.Strerror(err))
	}
	if !st.Success() {
		return &applet.Exit{Code: 1, Msg: fmt.Sprintf("%s failed", path)}
	}
	return nil
}

// The "maps" stage is the helper of a user namespace made without --fork:
// started before unshare re-executes itself into the C constructor, it
// waits until the namespace exists (a byte on fd 3), then writes the maps
// of its parent, which waits for it. The parent is named by its PID, not
// found by getppid: a parent killed after the byte would have left the
// helper to another. The end of the file on fd 3 (the parent gone, or
// given up) ends the helper; a parent that fails kills it.
func init() { reexec.Register("maps", mapsStage) }

func mapsStage() int {
	name := os.Getenv(nsexec.EnvPrefix + "NAME")
	var b [1]byte
	if n, _ := unix.Read(3, b[:]); n != 1 {
		return 0 // the parent gave up before unsharing
	}
	m := &rangeMaps{}
	for _, k := range []struct {
		env string
		dst *[]idmap.Range
	}{{"MAPUID", &m.uid}, {"MAPGID", &m.gid}} {
		if v := os.Getenv(nsexec.EnvPrefix + k.env); v != "" {
			rs, err := idmap.ParseRanges(strings.Split(v, ","))
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
				return 1
			}
			*k.dst = rs
		}
	}
	pid, err := strconv.Atoi(os.Getenv(nsexec.EnvPrefix + "MAPPID"))
	if err != nil {
		return 1
	}
	if err := m.write(pid, os.Getenv(nsexec.EnvPrefix+"MAPSETGROUPS")); err != nil {
		msg, code := applet.Status(name, err)
		fmt.Fprint(os.Stderr, msg)
		return code
	}
	return 0
}

// startHelper starts the "maps" stage for a namespace this process is
// about to make in place; it returns the helper's PID and the write end of
// its start pipe (inherited across the re-exec, to the C stage).
func (m *rangeMaps) startHelper(name, setgroups string) (pid, start int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return 0, 0, applet.Errorf("pipe failed: %s", applet.Strerror(err))
	}
	spec := func(rs []idmap.Range) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Spec())
		}
		return strings.Join(s, ",")
	}
	env := append(os.Environ(), nsexec.EnvStage+"=maps", nsexec.EnvPrefix+"NAME="+name,
		nsexec.EnvPrefix+"MAPUID="+spec(m.uid), nsexec.EnvPrefix+"MAPGID="+spec(m.gid),
		nsexec.EnvPrefix+"MAPSETGROUPS="+setgroups, nsexec.EnvPrefix+"MAPPID="+strconv.Itoa(os.Getpid()))
	pid, err = syscall.ForkExec("/proc/self/exe", []string{"unshare"}, &syscall.ProcAttr{
		Env: env, Files: []uintptr{0, 1, 2, uintptr(p[0])},
	})
	unix.Close(p[0])
	if err != nil {
		unix.Close(p[1])
		return 0, 0, applet.Errorf("cannot start the map helper: %s", applet.Strerror(err))
	}
	return pid, p[1], nil
}
