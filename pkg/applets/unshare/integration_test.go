package unshare_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// builds runs f once per build of the binary: the static cgo build (with
// the C constructor) and the CGO_ENABLED=0 build (stages in Go).
func builds(t *testing.T, f func(t *testing.T, bin string, cgo bool)) {
	t.Run("cgo", func(t *testing.T) { f(t, testutil.Binary(t), true) })
	t.Run("purego", func(t *testing.T) { f(t, testutil.PureGoBinary(t), false) })
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func isNsfs(path string) bool {
	var sfs unix.Statfs_t
	return unix.Statfs(path, &sfs) == nil && sfs.Type == unix.NSFS_MAGIC
}

// pinFiles makes empty files to pin onto; they are unmounted at cleanup
// (the test asserts nothing was left only after that).
func pinFiles(t *testing.T, dir string, names ...string) []string {
	var paths []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		// A test that fails half-way must not leave its pins mounted.
		t.Cleanup(func() {
			for isNsfs(p) {
				if unix.Unmount(p, unix.MNT_DETACH) != nil {
					break
				}
			}
		})
	}
	return paths
}

func unpin(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if !isNsfs(p) {
			t.Errorf("%s is not an nsfs pin", p)
			continue
		}
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", p, err)
		}
	}
}

// TestPins: --TYPE=FILE binds the new namespace onto FILE, from the
// original mount namespace, in the three ways the applet runs: in-process,
// through the constructor (-U without -f) and from the parent of --fork.
func TestPins(t *testing.T) {
	testutil.RequireRoot(t)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		for _, mode := range [][]string{{}, {"-r"}, {"--fork"}, {"-r", "--fork"}} {
			t.Run(strings.Join(append([]string{"mode"}, mode...), ""), func(t *testing.T) {
				dir := t.TempDir()
				testutil.CheckNoLeaks(t)
				pins := pinFiles(t, dir, "net", "uts", "ipc", "cgroup", "mnt")
				// A mount-namespace pin needs a private parent mount.
				testutil.Must(t, testutil.Run(t, "mount", "--bind", dir, dir), 0)
				defer unix.Unmount(dir, unix.MNT_DETACH)
				testutil.Must(t, testutil.Run(t, "mount", "--make-private", dir), 0)
				args := append([]string{bin, "unshare"}, mode...)
				args = append(args, "--net="+pins[0], "--uts="+pins[1], "--ipc="+pins[2], "--cgroup="+pins[3], "--mount="+pins[4],
					"sh", "-c", "hostname pinned; for t in net uts ipc cgroup mnt; do readlink /proc/self/ns/$t; done")
				r := testutil.Run(t, args...)
				testutil.Must(t, r, 0)
				lines := strings.Fields(r.Stdout)
				for i, p := range pins {
					want := fmt.Sprintf("[%d]", inode(t, p))
					if i >= len(lines) || !strings.HasSuffix(lines[i], want) {
						t.Errorf("pin %s: inode %s, program saw %v", p, want, lines)
					}
				}
				out := testutil.Run(t, "nsenter", "--uts="+pins[1], "hostname")
				if strings.TrimSpace(out.Stdout) != "pinned" {
					t.Errorf("nsenter --uts=pin hostname: %s", out.String())
				}
				out = testutil.Run(t, "nsenter", "--net="+pins[0], "ip", "-o", "link")
				if strings.Count(out.Stdout, "\n") != 1 || !strings.Contains(out.Stdout, "lo:") {
					t.Errorf("pinned netns should have only lo: %s", out.String())
				}
				unpin(t, pins...)
			})
		}
	})
}

// TestPinPidTime: pid and time pins name the namespace children get.
func TestPinPidTime(t *testing.T) {
	testutil.RequireRoot(t)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		dir := t.TempDir()
		testutil.CheckNoLeaks(t)
		p := pinFiles(t, dir, "pid", "time")
		r := testutil.Run(t, bin, "unshare", "--pid="+p[0], "--time="+p[1], "--fork", "--monotonic", "5", "sh", "-c",
			"readlink /proc/self/ns/pid /proc/self/ns/time")
		testutil.Must(t, r, 0)
		got := strings.Fields(r.Stdout)
		want := []string{fmt.Sprintf("pid:[%d]", inode(t, p[0])), fmt.Sprintf("time:[%d]", inode(t, p[1]))}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("program in %v, pins %v", got, want)
		}
		unpin(t, p...)
		// Without --fork no process is in the new pid namespace yet: util-linux
		// fails the same way, and nothing stays mounted.
		r = testutil.Run(t, bin, "unshare", "--pid="+p[0], "true")
		if r.Code != 1 || !strings.Contains(r.Stderr, "/ns/pid_for_children on "+p[0]+" failed: No such file or directory") {
			t.Errorf("--pid=FILE without --fork: %s", r.String())
		}
		if isNsfs(p[0]) {
			t.Errorf("%s left mounted", p[0])
		}
	})
}

// TestPinRollback: a pin that fails undoes the pins made before it.
func TestPinRollback(t *testing.T) {
	testutil.RequireRoot(t)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		for _, mode := range [][]string{{}, {"-r"}, {"-f"}} {
			dir := t.TempDir()
			testutil.CheckNoLeaks(t)
			ok := pinFiles(t, dir, "uts")[0]
			args := append([]string{bin, "unshare"}, mode...)
			r := testutil.Run(t, append(args, "--uts="+ok, "--net="+dir+"/missing/x", "true")...)
			if r.Code != 1 || !strings.Contains(r.Stderr, "on "+dir+"/missing/x failed: No such file or directory") {
				t.Errorf("%v: %s", mode, r.String())
			}
			if isNsfs(ok) {
				t.Errorf("%v: %s left mounted after a later pin failed", mode, ok)
				unix.Unmount(ok, unix.MNT_DETACH)
			}
		}
	})
}

// notifyScript runs unshare in the background with --ready-fd 3 on a FIFO
// and --pid-file, reads the PID the moment it is written, and prints the
// PID, the PID file and the namespaces of that process.
const notifyScript = `
set -e
mkfifo "$T/fifo"
"$BIN" unshare "$@" --pid-file "$T/pidfile" --ready-fd 3 sh -c 'ls /proc/$$/fd; exec sleep 5' 3>"$T/fifo" >"$T/out" &
bg=$!
read pid <"$T/fifo"
echo "bg=$bg pid=$pid file=$(cat "$T/pidfile")"
echo "net=$(readlink /proc/$pid/ns/net) self=$(readlink /proc/self/ns/net)"
kill $pid
wait $bg || true
cat "$T/out"
`

func TestReadyFdAndPidFile(t *testing.T) {
	testutil.RequireRoot(t)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		for _, mode := range [][]string{{"-n"}, {"-rn"}, {"-n", "-f"}, {"-rn", "-f"}} {
			t.Run(strings.Join(mode, ""), func(t *testing.T) {
				dir := t.TempDir()
				testutil.CheckNoLeaks(t)
				r := testutil.RunWith(t, testutil.Opts{Env: []string{"T=" + dir, "BIN=" + bin}},
					append([]string{"sh", "-c", notifyScript, "sh"}, mode...)...)
				testutil.Must(t, r, 0)
				var bg, pid, file int
				fmt.Sscanf(r.Stdout, "bg=%d pid=%d file=%d", &bg, &pid, &file)
				if pid == 0 || pid != file {
					t.Fatalf("ready fd and pid file disagree: %s", r.Stdout)
				}
				fork := len(mode) > 1 || (!cgo && mode[0] == "-rn")
				if !fork && pid != bg {
					t.Errorf("without --fork the program keeps unshare's PID %d, got %d", bg, pid)
				}
				if fork && pid == bg {
					t.Errorf("with a fork the PID must be the child's, got unshare's own")
				}
				var netns, self string
				for _, l := range strings.Split(r.Stdout, "\n") {
					if strings.HasPrefix(l, "net=") {
						fmt.Sscanf(l, "net=%s self=%s", &netns, &self)
					}
				}
				if netns == "" || netns == self {
					t.Errorf("PID %d is not in a new net namespace: %s", pid, r.Stdout)
				}
				// The program does not inherit the ready fd.
				rest := r.Stdout[strings.Index(r.Stdout, "self="):]
				fds := strings.Fields(rest[strings.Index(rest, "\n"):])
				for _, fd := range fds {
					if fd == "3" {
						t.Errorf("program inherited the ready fd: %v", fds)
					}
				}
			})
		}
	})
}

// TestInit: --init reaps orphans and forwards SIGTERM; the program's status
// is the exit status.
func TestInit(t *testing.T) {
	testutil.RequireRoot(t)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		testutil.CheckNoLeaks(t)
		r := testutil.Run(t, bin, "unshare", "-fp", "--mount-proc", "--init", "sh", "-c",
			`(sleep 0.1 &); sleep 0.5; ps -e -o stat= | grep -c Z; ps -o comm= -p 1; exit 5`)
		if r.Code != 5 || strings.Fields(r.Stdout)[0] != "0" {
			t.Errorf("want no zombie and exit 5: %s", r.String())
		}
		if f := strings.Fields(r.Stdout); len(f) < 2 || f[1] == "sh" {
			t.Errorf("PID 1 should be the init: %s", r.Stdout)
		}
		dir := t.TempDir()
		p := testutil.Start(t, testutil.Opts{}, bin, "unshare", "-fp", "--init", "--pid-file", dir+"/pid", "sh", "-c",
			`trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 0.05; done`)
		p.WaitOutput("ready", 10*time.Second)
		initPid, _ := strconv.Atoi(strings.TrimSpace(testutil.ReadFile(t, dir+"/pid")))
		if err := unix.Kill(initPid, unix.SIGTERM); err != nil {
			t.Fatal(err)
		}
		res := p.Wait()
		if res.Code != 42 || !strings.Contains(res.Stdout, "got TERM") {
			t.Errorf("init should forward SIGTERM and pass on 42: %s", res.String())
		}
	})
}

// TestSignals: the --fork parent survives SIGTERM while the child runs and
// then dies of the child's signal; --forward-signals passes it on;
// --kill-child kills the child when the parent dies.
func TestSignals(t *testing.T) {
	testutil.RequireRoot(t)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		testutil.CheckNoLeaks(t)
		dir := t.TempDir()
		p := testutil.Start(t, testutil.Opts{}, bin, "unshare", "-f", "--pid-file", dir+"/pid", "sh", "-c", "echo ready; exec sleep 30")
		p.WaitOutput("ready", 10*time.Second)
		child, _ := strconv.Atoi(strings.TrimSpace(testutil.ReadFile(t, dir+"/pid")))
		p.Signal(unix.SIGTERM)
		time.Sleep(100 * time.Millisecond)
		select {
		case <-p.Done():
			t.Fatalf("unshare -f died of SIGTERM while its child ran: %s", p.Wait().String())
		default:
		}
		unix.Kill(child, unix.SIGTERM)
		if r := p.Wait(); r.Signal != int(unix.SIGTERM) {
			t.Errorf("want unshare killed by SIGTERM like its child, got %s", r.Status())
		}

		os.Remove(dir + "/pid")
		p = testutil.Start(t, testutil.Opts{}, bin, "unshare", "--forward-signals", "--pid-file", dir+"/pid", "sh", "-c", "echo ready; exec sleep 30")
		p.WaitOutput("ready", 10*time.Second)
		p.Signal(unix.SIGTERM)
		if r := p.Wait(); r.Signal != int(unix.SIGTERM) {
			t.Errorf("--forward-signals: want SIGTERM, got %s", r.Status())
		}

		for _, kill := range []bool{true, false} {
			os.Remove(dir + "/pid")
			args := []string{bin, "unshare", "-fp", "--pid-file", dir + "/pid"}
			if kill {
				args = append(args, "--kill-child")
			}
			p = testutil.Start(t, testutil.Opts{}, append(args, "sh", "-c", "echo ready; exec sleep 30")...)
			p.WaitOutput("ready", 10*time.Second)
			child, _ = strconv.Atoi(strings.TrimSpace(testutil.ReadFile(t, dir+"/pid")))
			p.Signal(unix.SIGKILL)
			p.Wait()
			time.Sleep(100 * time.Millisecond)
			alive := unix.Kill(child, 0) == nil && !zombie(child)
			if kill && alive {
				t.Errorf("--kill-child: child %d survived its parent", child)
			}
			if !kill && !alive {
				t.Errorf("without --kill-child the child %d should survive", child)
			}
			unix.Kill(child, unix.SIGKILL)
			waitGone(child)
		}
	})
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndex(s, ")")+1:])
	return len(f) > 0 && f[0] == "Z"
}

func waitGone(pid int) {
	for i := 0; i < 100 && unix.Kill(pid, 0) == nil && !zombie(pid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHostnameAndModes: --hostname and the other in-namespace steps work
// the same in every path the plan can take.
func TestHostnameAndModes(t *testing.T) {
	testutil.RequireRoot(t)
	host, _ := os.Hostname()
	builds(t, func(t *testing.T, bin string, cgo bool) {
		// --mount-proc in a user namespace needs a pid namespace it owns
		// (as with util-linux): -r runs with -pf.
		for _, mode := range [][]string{{}, {"-f"}, {"-rpf"}, {"-fp", "--init"}, {"-rpf", "--init"}} {
			testutil.CheckNoLeaks(t)
			args := append(append([]string{bin, "unshare"}, mode...), "--hostname", "box", "-T", "--boottime", "86400", "-m", "--mount-proc",
				"sh", "-c", "hostname; cut -d. -f1 /proc/uptime; findmnt -n -o PROPAGATION /")
			r := testutil.Run(t, args...)
			if r.Code != 0 {
				t.Errorf("%v: %s", mode, r.String())
				continue
			}
			f := strings.Fields(r.Stdout)
			if len(f) != 3 || f[0] != "box" || f[2] != "private" {
				t.Errorf("%v: %s", mode, r.String())
				continue
			}
			if up, _ := strconv.Atoi(f[1]); up < 86400 {
				t.Errorf("%v: boottime offset not applied, uptime %d", mode, up)
			}
		}
		if h, _ := os.Hostname(); h != host {
			t.Errorf("host name changed to %s", h)
		}
	})
}

// TestBinfmt: --load-interp registers an interpreter in the namespace's
// own binfmt_misc (kernel ≥ 6.7), as root and unprivileged.
func TestBinfmt(t *testing.T) {
	testutil.RequireRoot(t)
	if _, err := os.Stat("/proc/sys/fs/binfmt_misc"); err != nil {
		t.Skip("no binfmt_misc on this kernel")
	}
	dir, err := os.MkdirTemp("", "nsbox-binfmt-") // reachable by the test user
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	interp, prog := dir+"/interp", dir+"/prog.nsbx"
	os.WriteFile(interp, []byte("#!/bin/sh\necho interpreted \"$@\"\n"), 0o755)
	os.WriteFile(prog, []byte("NSBXMAGIC\n"), 0o755)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		testutil.CheckNoLeaks(t)
		args := []string{bin, "unshare", "-r", "--load-interp", ":nsbx:M::NSBXMAGIC::" + interp + ":", prog, "x"}
		for _, r := range []testutil.Result{testutil.Run(t, args...), testutil.RunAs(t, testutil.Unprivileged(t), args...)} {
			if r.Code != 0 || strings.TrimSpace(r.Stdout) != "interpreted "+prog+" x" {
				t.Errorf("%s", r.String())
			}
		}
		if _, err := os.Stat("/proc/sys/fs/binfmt_misc/nsbx"); err == nil {
			t.Errorf("the interpreter leaked into the host's binfmt_misc")
		}
	})
}

// TestBinfmtProc: a bare --mount-binfmt mounts a new /proc first, and
// binfmt_misc on it, where util-linux 2.43 would and can (a child forked
// into a new PID namespace); elsewhere, or with a directory, binfmt_misc
// goes on the /proc there is. As root and unprivileged.
func TestBinfmtProc(t *testing.T) {
	testutil.RequireRoot(t)
	if _, err := os.Stat("/proc/sys/fs/binfmt_misc"); err != nil {
		t.Skip("no binfmt_misc on this kernel")
	}
	// How many /proc mounts there are, whether binfmt_misc is mounted on
	// the topmost one, and whether /proc shows few processes (a new PID
	// namespace's) or many.
	probe := `awk '$5 == "/proc" { n++; top = $1 } $5 == "/proc/sys/fs/binfmt_misc" { on = $2 }
		END { print n " proc, binfmt_misc on " (on == top ? "the top one" : "another") }' /proc/self/mountinfo
		[ "$(ls /proc | grep -c '^[0-9]')" -lt 20 ] && echo few processes || echo many processes`
	u := testutil.Unprivileged(t)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		testutil.CheckNoLeaks(t)
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"-fp", "--mount-binfmt"}, "2 proc, binfmt_misc on the top one\nfew processes\n"},
			{[]string{"-fp", "-l", ":nsbx:M::NSBXMAGIC::/bin/true:"}, "2 proc, binfmt_misc on the top one\nfew processes\n"},
			{[]string{"-fp", "--mount-proc", "--mount-binfmt"}, "2 proc, binfmt_misc on the top one\nfew processes\n"},
			{[]string{"-fp", "--mount-binfmt=/proc/sys/fs/binfmt_misc"}, "1 proc, binfmt_misc on the top one\nmany processes\n"},
			{[]string{"--mount-binfmt"}, "1 proc, binfmt_misc on the top one\nmany processes\n"},
		} {
			for _, as := range []*testutil.User{nil, u} {
				args := append(append([]string{bin, "unshare", "-r"}, c.args...), "sh", "-c", probe)
				r := testutil.RunWith(t, testutil.Opts{User: as}, args...)
				if r.Stdout != c.want || r.Stderr != "" || r.Code != 0 {
					t.Errorf("unshare -r %s (user %v): want %q, got %s", strings.Join(c.args, " "), as != nil, c.want, r.String())
				}
			}
		}
	})
}

// TestStageRefusesSetuid: the internal stages never act in a set-user-ID
// process, so installing nsbox set-user-ID root gives no applet privilege
// through them.
func TestStageRefusesSetuid(t *testing.T) {
	testutil.RequireRoot(t)
	uid := strconv.Itoa(testutil.Unprivileged(t).UID)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		testutil.CheckNoLeaks(t)
		suid := setuidCopy(t, bin, "nsbox")
		link := filepath.Join(filepath.Dir(suid), "unshare") // argv[0] names the applet, as in a re-exec
		if err := os.Symlink(suid, link); err != nil {
			t.Fatal(err)
		}
		for _, stage := range []string{"self", "child", "init"} {
			r := testutil.RunWith(t, testutil.Opts{Env: []string{
				"_NSBOX_STAGE=" + stage, "_NSBOX_UNSHARE=" + strconv.Itoa(unix.CLONE_NEWNS), "_NSBOX_EXEC=/usr/bin/id"}},
				"setpriv", "--reuid", uid, "--regid", uid, "--clear-groups", link, "/usr/bin/id", "-u")
			if r.Code != 126 || !strings.Contains(r.Stderr, "internal stage refused") || r.Stdout != "" {
				t.Errorf("stage %s in a set-user-ID process: %s", stage, r.String())
			}
		}
	})
}

// TestSetuidCopyRefuses: a set-user-ID copy of nsbox (as setuidmap's and
// mkbridge's is) run as unshare, through a link or as `nsbox unshare`,
// refuses before it does anything and says which nsbox to run.
func TestSetuidCopyRefuses(t *testing.T) {
	testutil.RequireRoot(t)
	u := testutil.Unprivileged(t)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		testutil.CheckNoLeaks(t)
		suid := setuidCopy(t, bin, "nsbox")
		link := filepath.Join(filepath.Dir(suid), "unshare")
		if err := os.Symlink(suid, link); err != nil {
			t.Fatal(err)
		}
		marker := filepath.Join(u.Home, "ran")
		want := "unshare: this is a set-user-ID copy of nsbox: run the unprivileged nsbox for unshare\n"
		for _, argv := range [][]string{{link}, {suid, "unshare"}} {
			r := testutil.RunAs(t, u, append(argv, "-n", "touch", marker)...)
			if r.Code != 1 || r.Stderr != want || r.Stdout != "" {
				t.Errorf("%v through the set-user-ID copy: %s", argv, r.String())
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("%v through the set-user-ID copy ran the program", argv)
				os.Remove(marker)
			}
		}
	})
}

// TestPropagationNoLeak: mounts made in the new mount namespace stay there.
func TestPropagationNoLeak(t *testing.T) {
	testutil.RequireRoot(t)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		for _, mode := range [][]string{{"-m"}, {"-rm"}, {"-mf"}, {"-m", "--propagation", "slave"}} {
			testutil.CheckNoLeaks(t)
			dir := t.TempDir()
			r := testutil.Run(t, append(append([]string{bin, "unshare"}, mode...), "sh", "-c",
				"mount -t tmpfs none "+dir+" && touch "+dir+"/inside && ls "+dir)...)
			testutil.Must(t, r, 0)
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("%v: the mount reached the host: %v", mode, entries)
			}
		}
	})
}

// TestDefaultShell: no program runs $SHELL as a login shell.
func TestDefaultShell(t *testing.T) {
	builds(t, func(t *testing.T, bin string, cgo bool) {
		r := testutil.RunWith(t, testutil.Opts{Env: []string{"SHELL=/bin/sh"}, Stdin: strings.NewReader("echo $0\n")}, bin, "unshare")
		if strings.TrimSpace(r.Stdout) != "-sh" {
			t.Errorf("%s", r.String())
		}
	})
}

// TestForkDirect: plain --fork goes util-linux's way (this process unshares,
// then forks the program: the parent shares the new namespaces); steps
// that need the child take the child stage, whose parent stays outside.
// The C fast path (cgo build) goes util-linux's way for --mount-proc too.
func TestForkDirect(t *testing.T) {
	testutil.RequireRoot(t)
	const probe = `[ "$(readlink /proc/$PPID/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo parent-inside || echo parent-outside`
	builds(t, func(t *testing.T, bin string, cgo bool) {
		testutil.CheckNoLeaks(t)
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"-fn"}, "parent-inside"},
			{[]string{"-fnu", "--hostname", "h"}, "parent-inside"},
			{[]string{"-fn", "--mount-proc=/proc"}, "parent-outside"},
			{[]string{"-fn", "--kill-child"}, "parent-outside"},
			{[]string{"-fn", "--mount-proc"}, map[bool]string{true: "parent-inside", false: "parent-outside"}[cgo]},
		} {
			r := testutil.Run(t, append(append([]string{bin, "unshare"}, c.args...), "sh", "-c", probe)...)
			if r.Code != 0 || strings.TrimSpace(r.Stdout) != c.want {
				t.Errorf("%v: want %s, got %s", c.args, c.want, r.String())
			}
		}
		if ul := testutil.HaveUtilLinux(t, "unshare"); ul != "" {
			r := testutil.Run(t, ul, "-fn", "sh", "-c", probe)
			if strings.TrimSpace(r.Stdout) != "parent-inside" {
				t.Errorf("util-linux reference changed: %s", r.String())
			}
		}
	})
}

// TestRangeMaps: --map-users/--map-groups/--map-auto/--map-subids give the
// maps util-linux gives: written directly by root, through a set-user-ID
// helper (shadow's newuidmap here) for an unprivileged user, whose
// container can then own files of any mapped id.
func TestRangeMaps(t *testing.T) {
	testutil.RequireRoot(t)
	u := testutil.Unprivileged(t)
	const show = "cat /proc/self/uid_map /proc/self/gid_map"
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	builds(t, func(t *testing.T, bin string, cgo bool) {
		testutil.CheckNoLeaks(t)
		// root: direct writes
		r := testutil.Run(t, bin, "unshare", "--map-users=0:100000:65536", "--map-groups=0:100000:65536", "-f", "sh", "-c", show)
		if r.Code != 0 || norm(r.Stdout) != "0 100000 65536 0 100000 65536" {
			t.Errorf("root --map-users: %s", r.String())
		}
		// 2.38's outer,inner,count form
		r = testutil.Run(t, bin, "unshare", "--map-users=100000,0,10", "--map-groups=100000,0,10", "-f", "sh", "-c", show)
		if r.Code != 0 || norm(r.Stdout) != "0 100000 10 0 100000 10" {
			t.Errorf("root --map-users outer,inner,count: %s", r.String())
		}
		start := strconv.Itoa(u.SubUIDStart)
		gstart := strconv.Itoa(u.SubGIDStart)
		uid := strconv.Itoa(u.UID)
		gid := strconv.Itoa(u.GID)
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--map-auto"}, "0 " + start + " 65536 0 " + gstart + " 65536"},
			{[]string{"--map-subids"}, start + " " + start + " 65536 " + gstart + " " + gstart + " 65536"},
			{[]string{"-r", "--map-users=1:" + start + ":65536", "--map-groups=1:" + gstart + ":65536"},
				"0 " + uid + " 1 1 " + start + " 65536 0 " + gid + " 1 1 " + gstart + " 65536"},
			// util-linux 2.39+: the single map is cut out of the block.
			{[]string{"--map-auto", "-r"}, "0 " + uid + " 1 1 " + start + " 65535 0 " + gid + " 1 1 " + gstart + " 65535"},
		} {
			args := append(append([]string{bin, "unshare"}, c.args...), "-f", "sh", "-c", show)
			r := testutil.RunAs(t, u, args...)
			if r.Code != 0 || norm(r.Stdout) != c.want {
				t.Errorf("%v as %s: want %q, got %s", c.args, u.Name, c.want, r.String())
			}
		}
		// util-linux gives the same --map-auto maps.
		if ul := testutil.HaveUtilLinux(t, "unshare"); ul != "" {
			a := testutil.RunAs(t, u, bin, "unshare", "--map-auto", "-f", "sh", "-c", show)
			b := testutil.RunAs(t, u, ul, "--map-auto", "-f", "sh", "-c", show)
			if a.Stdout != b.Stdout || a.Code != b.Code {
				t.Errorf("--map-auto differs from util-linux:\nnsbox %s\nutil-linux %s", a.String(), b.String())
			}
		}
		// In the rootless layout (the caller is root inside) a file can
		// belong to any mapped id.
		r = testutil.RunAs(t, u, bin, "unshare", "-r", "--map-users=1:"+start+":65536", "--map-groups=1:"+gstart+":65536", "-f", "sh", "-c",
			"cd \"$(mktemp -d)\" && touch f && chown 1000:1000 f && stat -c %u:%g f")
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != "1000:1000" {
			t.Errorf("chown inside a rootless container: %s", r.String())
		}
		// Another user's range is refused by the helper, and nothing runs.
		r = testutil.RunAs(t, u, bin, "unshare", "--map-users=0:100:10", "-f", "echo", "ran")
		if r.Code != 1 || strings.Contains(r.Stdout, "ran") || !strings.Contains(r.Stderr, "not allowed") {
			t.Errorf("another user's range: %s", r.String())
		}
		// Without --fork the maps come from a helper started before the
		// namespace exists; the cgo build keeps unshare's PID.
		p := testutil.Start(t, testutil.Opts{User: u}, bin, "unshare", "--map-auto", "sh", "-c", "echo $$; "+show)
		res := p.Wait()
		lines := strings.SplitN(res.Stdout, "\n", 2)
		if res.Code != 0 || len(lines) < 2 || norm(lines[1]) != "0 "+start+" 65536 0 "+gstart+" 65536" {
			t.Errorf("--map-auto without --fork: %s", res.String())
		} else if got, _ := strconv.Atoi(lines[0]); cgo && got != p.Pid() {
			t.Errorf("--map-auto without --fork: program PID %d, unshare's %d", got, p.Pid())
		}
		r = testutil.Run(t, bin, "unshare", "--map-users=0:100000:65536", "--map-groups=0:100000:65536", "--setgroups", "deny", "sh", "-c", show+" /proc/self/setgroups")
		if r.Code != 0 || norm(r.Stdout) != "0 100000 65536 0 100000 65536 deny" {
			t.Errorf("root --map-users without --fork: %s", r.String())
		}
	})
}

// TestRangeMapsThroughSetuidmap: with nsbox's set-user-ID setuidmap first
// in PATH, unshare uses it rather than shadow's newuidmap.
func TestRangeMapsThroughSetuidmap(t *testing.T) {
	testutil.RequireRoot(t)
	u := testutil.Unprivileged(t)
	bin := testutil.Binary(t)
	testutil.CheckNoLeaks(t)
	dir := filepath.Dir(setuidCopy(t, bin, "setuidmap"))
	// A newuidmap that must not be used: it fails loudly.
	os.WriteFile(filepath.Join(dir, "newuidmap"), []byte("#!/bin/sh\necho wrong helper >&2; exit 3\n"), 0o755)
	path := "PATH=" + dir + ":/usr/sbin:/usr/bin:/sbin:/bin"
	r := testutil.RunWith(t, testutil.Opts{User: u, Env: []string{path}}, bin, "unshare", "--map-auto", "-f", "cat", "/proc/self/uid_map")
	want := fmt.Sprintf("0 %d 65536", u.SubUIDStart)
	if r.Code != 0 || strings.Join(strings.Fields(r.Stdout), " ") != want {
		t.Errorf("want %q through setuidmap, got %s", want, r.String())
	}
}

// setuidCopy copies bin, set-user-ID root, as name into a new directory the
// test user reaches directly (a copy made for it would lose the bit); the
// directory goes at cleanup.
func setuidCopy(t *testing.T, bin, name string) string {
	t.Helper()
	path := filepath.Join(sharedTemp(t), name)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, os.ModeSetuid|0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// sharedTemp is a new directory that every user reaches directly (under
// /tmp, mode 0755), removed at cleanup.
func sharedTemp(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nsbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	return dir
}

// TestOwner: --owner makes the user namespace belong to another user (root
// creates a container for it); the maps, written by the privileged side,
// can still use that user's subordinate ranges, and the owner can enter it
// later without privilege.
func TestOwner(t *testing.T) {
	testutil.RequireRoot(t)
	u := testutil.Unprivileged(t)
	owner := fmt.Sprintf("%d:%d", u.UID, u.GID)
	start, gstart := strconv.Itoa(u.SubUIDStart), strconv.Itoa(u.SubGIDStart)
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	builds(t, func(t *testing.T, bin string, cgo bool) {
		for _, mode := range [][]string{{}, {"-f"}} {
			t.Run(strings.Join(append([]string{"mode"}, mode...), ""), func(t *testing.T) {
				testutil.CheckNoLeaks(t)
				args := append([]string{bin, "unshare", "--owner", owner, "--map-users=0:" + start + ":65536", "--map-groups=0:" + gstart + ":65536"}, mode...)
				p := testutil.Start(t, testutil.Opts{}, append(args, "sh", "-c", "echo $$; cat /proc/self/uid_map /proc/self/gid_map; echo ready; exec sleep 60")...)
				out := p.WaitOutput("ready", 10*time.Second)
				lines := strings.SplitN(out, "\n", 2)
				if len(lines) < 2 || norm(strings.TrimSuffix(lines[1], "ready\n")) != "0 "+start+" 65536 0 "+gstart+" 65536" {
					t.Fatalf("maps: %q (stderr %q)", out, p.Stderr())
				}
				pid, _ := strconv.Atoi(lines[0])
				fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					t.Fatal(err)
				}
				ownerUID, err := unix.IoctlGetUint32(fd, unix.NS_GET_OWNER_UID)
				unix.Close(fd)
				if err != nil || int(ownerUID) != u.UID {
					t.Errorf("user namespace owner = %d (%v), want %d", ownerUID, err, u.UID)
				}
				// Its owner enters it as an unprivileged user.
				// (Joining a user namespace needs the cgo build's constructor.)
				r := testutil.RunAs(t, u, testutil.Binary(t), "nsenter", "-t", strconv.Itoa(pid), "-U", "--preserve-credentials", "cat", "/proc/self/uid_map")
				if r.Code != 0 || norm(r.Stdout) != "0 "+start+" 65536" {
					t.Errorf("owner's nsenter -U: %s", r.String())
				}
				unix.Kill(pid, unix.SIGKILL)
				if res := p.Wait(); res.Signal != int(unix.SIGKILL) {
					t.Errorf("unshare after its program was killed: %s", res.String())
				}
			})
		}
		// util-linux's refusals.
		r := testutil.Run(t, bin, "unshare", "--owner", "1:x", "true")
		if r.Code != 1 || r.Stderr != "unshare: failed to parse owner\n" {
			t.Errorf("--owner 1:x: %s", r.String())
		}
		r = testutil.RunAs(t, u, bin, "unshare", "--owner", "1:1", "-r", "-f", "true")
		if r.Code != 1 || r.Stderr != "unshare: setgroups failed: Operation not permitted\n" {
			t.Errorf("--owner as an unprivileged user: %s", r.String())
		}
	})
}

// TestOwnerKillChild: with --owner the child is cloned by a thread that
// took the owner's ids, and the kernel sends --kill-child's signal when
// that thread ends: it must last until the child has been waited for, and
// no longer than unshare.
func TestOwnerKillChild(t *testing.T) {
	testutil.RequireRoot(t)
	u := testutil.Unprivileged(t)
	owner := fmt.Sprintf("%d:%d", u.UID, u.GID)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		testutil.CheckNoLeaks(t)
		failed := 0
		for i := 0; i < 200; i++ {
			r := testutil.Run(t, bin, "unshare", "--owner", owner, "--kill-child", "--", "sh", "-c", "echo ok")
			if r.Code != 0 || r.Stdout != "ok\n" {
				if failed == 0 {
					t.Errorf("first failure: %s", r.String())
				}
				failed++
			}
		}
		if failed > 0 {
			t.Errorf("%d of 200 runs of unshare --owner --kill-child failed", failed)
		}
		// The signal still comes when unshare dies.
		dir := t.TempDir()
		p := testutil.Start(t, testutil.Opts{}, bin, "unshare", "--owner", owner, "--kill-child", "--pid-file", dir+"/pid",
			"sh", "-c", "echo ready; exec sleep 30")
		p.WaitOutput("ready", 10*time.Second)
		child, _ := strconv.Atoi(strings.TrimSpace(testutil.ReadFile(t, dir+"/pid")))
		p.Signal(unix.SIGKILL)
		p.Wait()
		waitGone(child)
		if unix.Kill(child, 0) == nil && !zombie(child) {
			t.Errorf("--owner --kill-child: child %d survived its parent", child)
			unix.Kill(child, unix.SIGKILL)
			waitGone(child)
		}
	})
}

// TestPinHelperReaped: a user namespace made in place with pins forks a
// helper that binds them from the original namespaces; when the stage
// fails after that (here --owner, which an unprivileged caller may not
// take: setgroups fails, as unshare(2) could), it kills and reaps its
// helper before it exits. The test is the subreaper of what unshare leaves:
// any process handed to it outlived the command.
func TestPinHelperReaped(t *testing.T) {
	testutil.RequireRoot(t)
	u := testutil.Unprivileged(t)
	pin := filepath.Join(u.Home, "net")
	if err := os.WriteFile(pin, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chown(pin, u.UID, u.GID)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	for i := 0; i < 20; i++ {
		r := testutil.RunAs(t, u, testutil.Binary(t), "unshare", "--owner", "1:1", "-U", "--net="+pin, "true")
		if r.Code != 1 || r.Stderr != "unshare: setgroups failed: Operation not permitted\n" {
			t.Fatalf("want the --owner refusal: %s", r.String())
		}
		_, err := unix.Wait4(-1, nil, unix.WNOHANG|unix.WALL, nil)
		if err == unix.ECHILD {
			continue
		}
		t.Errorf("run %d: a process of unshare's outlived it (wait4: %v)", i, err)
		for err != unix.ECHILD { // it ends at the end of its pipe
			_, err = unix.Wait4(-1, nil, unix.WALL, nil)
		}
	}
}

// TestPidFileReplaced: --pid-file takes the place of a file there (a new
// file linked under the name, never truncated in place), leaves no other
// name in the directory, and refuses a symbolic link as O_NOFOLLOW does,
// by every route (a new mount namespace among them: the name is linked
// through the directory opened at the start).
func TestPidFileReplaced(t *testing.T) {
	testutil.RequireRoot(t)
	builds(t, func(t *testing.T, bin string, cgo bool) {
		for _, mode := range [][]string{{"-n"}, {"-rn"}, {"-rmn"}, {"-n", "-f"}, {"-rmn", "-f"}} {
			t.Run(strings.Join(mode, ""), func(t *testing.T) {
				testutil.CheckNoLeaks(t)
				dir := t.TempDir()
				pidFile := filepath.Join(dir, "pid")
				if err := os.WriteFile(pidFile, []byte("123456789 old\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				old := inode(t, pidFile)
				args := append(append([]string{bin, "unshare"}, mode...), "--pid-file", pidFile, "sh", "-c", "echo $$")
				r := testutil.Run(t, args...)
				testutil.Must(t, r, 0)
				if got := testutil.ReadFile(t, pidFile); got != r.Stdout {
					t.Errorf("pid file holds %q, the program said %q", got, r.Stdout)
				}
				if inode(t, pidFile) == old {
					t.Errorf("the pid file was written in place, not replaced")
				}
				if ents, _ := os.ReadDir(dir); len(ents) != 1 {
					t.Errorf("directory holds %d entries, want the pid file alone", len(ents))
				}
			})
		}
		// Another user's file in a sticky directory could not be replaced:
		// it is written in place.
		u := testutil.Unprivileged(t)
		sticky := sharedTemp(t)
		if err := os.Chmod(sticky, os.ModeSticky|0o777); err != nil {
			t.Fatal(err)
		}
		theirs := filepath.Join(sticky, "pid")
		if err := os.WriteFile(theirs, nil, 0o666); err != nil {
			t.Fatal(err)
		}
		os.Chmod(theirs, 0o666)
		old := inode(t, theirs)
		r := testutil.RunAs(t, u, bin, "unshare", "-rn", "--pid-file", theirs, "sh", "-c", "echo $$")
		testutil.Must(t, r, 0)
		if got := testutil.ReadFile(t, theirs); got != r.Stdout || inode(t, theirs) != old {
			t.Errorf("another user's pid file in a sticky directory: %q, the program said %q", got, r.Stdout)
		}
		dir := t.TempDir()
		link := filepath.Join(dir, "link")
		os.Symlink(filepath.Join(dir, "target"), link)
		r = testutil.Run(t, bin, "unshare", "-n", "--pid-file", link, "true")
		if r.Code != 1 || r.Stderr != "unshare: cannot open "+link+": Too many levels of symbolic links\n" {
			t.Errorf("--pid-file onto a symbolic link: %s", r.String())
		}
		if _, err := os.Lstat(filepath.Join(dir, "target")); err == nil {
			t.Errorf("--pid-file followed a symbolic link")
		}
	})
}
