package testutil

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The test binary re-executes itself as the RunAs helper when this variable
// holds a helperConfig (JSON). It is handled in init so that it works in
// every test binary that imports testutil, with or without testutil.Main,
// and before the testing package parses flags.
const helperEnv = "NSBOX_TESTUTIL_RUNAS"

// helperErrFD is the fd (ExtraFiles[0]) on which the helper reports why it
// could not exec the command. It is close-on-exec, so the parent reads EOF
// with no data exactly when the exec succeeded.
const helperErrFD = 3

type helperConfig struct {
	Binds   [][2]string // bind-mount [0] over [1]
	Overlay string      // if set: overlay this directory over /etc instead
	Etc     string      // with Overlay: a lower layer between it and /etc
	UID     int
	GID     int
	Dir     string
	Env     []string
	Argv    []string
}

func init() {
	if cfg, ok := os.LookupEnv(helperEnv); ok {
		runHelper(cfg) // does not return
	}
}

// runHelper runs in a fresh private mount namespace (the parent sets
// SysProcAttr.Unshareflags = CLONE_NEWNS, which also makes / rprivate), as
// root. It never returns.
func runHelper(cfgJSON string) {
	unix.CloseOnExec(helperErrFD)
	fail := func(code int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if _, err := unix.Write(helperErrFD, []byte(msg)); err != nil {
			fmt.Fprintf(os.Stderr, "testutil RunAs helper: %s\n", msg)
		}
		os.Exit(code)
	}
	var cfg helperConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fail(125, "bad config: %v", err)
	}
	if len(cfg.Argv) == 0 {
		fail(125, "no command")
	}
	// Belt and braces: Go's CLONE_NEWNS handling already did this. Without
	// it, the bind mounts below would propagate to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		fail(125, "making / rprivate: %v", err)
	}
	for _, b := range cfg.Binds {
		if err := unix.Mount(b[0], b[1], "", unix.MS_BIND, ""); err != nil {
			fail(125, "bind-mounting %s over %s: %v", b[0], b[1], err)
		}
	}
	if cfg.Overlay != "" {
		if err := overlayEtc(cfg.Overlay, cfg.Etc); err != nil {
			fail(125, "%v", err)
		}
	}
	// syscall.Set* apply to every thread of the Go process.
	if err := syscall.Setgroups([]int{cfg.GID}); err != nil {
		fail(125, "setgroups: %v", err)
	}
	if err := syscall.Setgid(cfg.GID); err != nil {
		fail(125, "setgid: %v", err)
	}
	if err := syscall.Setuid(cfg.UID); err != nil {
		fail(125, "setuid: %v", err)
	}
	if err := os.Chdir(cfg.Dir); err != nil {
		fail(125, "%v", err)
	}
	path, err := lookPathAsUser(cfg.Argv[0], cfg.Env)
	if err != nil {
		fail(127, "%v", err)
	}
	err = unix.Exec(path, cfg.Argv, cfg.Env)
	fail(126, "exec %s: %v", path, err)
}

// lookPathAsUser resolves prog like execvp, with the PATH of env and the
// permissions of the (already switched) real uid.
func lookPathAsUser(prog string, env []string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, nil
	}
	pathVar := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, dir := range filepath.SplitList(pathVar) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, prog)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if unix.Access(p, unix.X_OK) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec %s: %w in PATH %s", prog, fs.ErrNotExist, pathVar)
}

// overlayEtc mounts a read-only overlay of top (then extra, if set) over
// /etc, then puts the mounts that were under /etc (bind-mounted /etc/hosts
// and the like) back on top of it.
func overlayEtc(top, extra string) error {
	mounts, err := parseMountinfoFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	type saved struct {
		fd    int
		point string
	}
	var subs []saved
	covered := func(p string) bool {
		for _, s := range subs {
			if strings.HasPrefix(p, s.point+"/") {
				return true
			}
		}
		return false
	}
	// mountinfo lists parents before children, so the first mount seen at
	// or above a path is the outermost; AT_RECURSIVE takes its children.
	for _, m := range mounts {
		if !strings.HasPrefix(m.point, "/etc/") || covered(m.point) {
			continue
		}
		fd, err := unix.OpenTree(unix.AT_FDCWD, m.point, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
		if err != nil {
			return fmt.Errorf("open_tree %s: %v", m.point, err)
		}
		subs = append(subs, saved{fd, m.point})
	}
	opts := "lowerdir=" + escapeOverlayPath(top) + ":/etc"
	if extra != "" {
		opts = "lowerdir=" + escapeOverlayPath(top) + ":" + escapeOverlayPath(extra) + ":/etc"
	}
	if err := unix.Mount("overlay", "/etc", "overlay", unix.MS_RDONLY, opts); err != nil {
		return fmt.Errorf("mount overlay %s on /etc: %v", opts, err)
	}
	for _, s := range subs {
		if err := unix.MoveMount(s.fd, "", unix.AT_FDCWD, s.point, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("move_mount %s: %v", s.point, err)
		}
		unix.Close(s.fd)
	}
	return nil
}

func escapeOverlayPath(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `:`, `\:`, `,`, `\,`)
	return r.Replace(p)
}

func parseMountinfoFile(path string) ([]mountEntry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseMountinfo(b)
}
