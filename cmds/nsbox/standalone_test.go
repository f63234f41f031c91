package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

// TestStandalone runs one real operation of each standalone binary,
// cmds/<applet> built with CGO_ENABLED=0 as u-root and gobusybox build them:
// no C constructor, so every internal stage (unshare's child, pin's holder)
// is the Go one that the binary's main finds through pkg/reexec. The
// binaries are $NSBOX_CMDS_DIR's (make's out/cmds) or built here.
func TestStandalone(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t, "/run/netns")
	dir := standaloneDir(t)
	bin := func(applet string) string { return filepath.Join(dir, applet) }
	run := func(t *testing.T, argv ...string) testutil.Result {
		t.Helper()
		r := testutil.Run(t, argv...)
		if r.Code != 0 {
			t.Fatalf("%s: %s", strings.Join(argv, " "), r)
		}
		return r
	}

	// The container the others act on: its own UTS, IPC and network
	// namespaces, made by the standalone unshare.
	tgt := testutil.Start(t, testutil.Opts{}, bin("unshare"), "-uin", "sh", "-c", "hostname nsbxstd; exec sleep 600").
		WaitExec(t, "sleep", 10*time.Second)
	pid := strconv.Itoa(tgt.Pid())
	nsOf := func(t *testing.T, p, typ string) string {
		t.Helper()
		l, err := os.Readlink("/proc/" + p + "/ns/" + typ)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if nsOf(t, pid, "uts") == nsOf(t, "self", "uts") {
		t.Fatalf("unshare -uin: the container is in the test's UTS namespace")
	}

	t.Run("unshare", func(t *testing.T) {
		host, _ := os.Hostname()
		r := run(t, bin("unshare"), "-u", "--fork", "sh", "-c", "hostname nsbxstd-u; hostname")
		if now, _ := os.Hostname(); r.Stdout != "nsbxstd-u\n" || now != host {
			t.Errorf("unshare -u --fork: printed %q, the host's name is %q (was %q)", r.Stdout, now, host)
		}
		// A user namespace: a Go "child" stage in this build.
		r = run(t, bin("unshare"), "-r", "sh", "-c", "id -u; readlink /proc/self/ns/user")
		if f := strings.Fields(r.Stdout); len(f) != 2 || f[0] != "0" || f[1] == nsOf(t, "self", "user") {
			t.Errorf("unshare -r: %q, want uid 0 in a new user namespace", r.Stdout)
		}
	})

	t.Run("nsenter", func(t *testing.T) {
		r := run(t, bin("nsenter"), "-t", pid, "-u", "-n", "sh", "-c", "hostname; readlink /proc/self/ns/net")
		if want := "nsbxstd\n" + nsOf(t, pid, "net") + "\n"; r.Stdout != want {
			t.Errorf("nsenter -t %s -u -n: %q, want %q", pid, r.Stdout, want)
		}
	})

	t.Run("pin", func(t *testing.T) {
		h := filepath.Join(t.TempDir(), "h")
		r := run(t, bin("pin"), "--hold", "-t", pid, "-u", "-n", h)
		m := regexp.MustCompile(`held by process (\d+) `).FindStringSubmatch(r.Stdout)
		if m == nil {
			t.Fatalf("pin --hold: %s", r)
		}
		holder, _ := strconv.Atoi(m[1])
		t.Cleanup(func() { unix.Kill(holder, unix.SIGKILL) }) // only if the test fails half-way
		// The holder keeps holding (it is not the pin applet run again).
		time.Sleep(200 * time.Millisecond)
		if st := procState(holder); st != "S" {
			t.Errorf("the holder %d is not sleeping in its stage: state %q", holder, st)
		}
		for _, n := range []string{"uts", "net"} {
			held, err := os.Stat(h + "/" + n)
			if err != nil {
				t.Fatal(err)
			}
			if ns, err := os.Stat("/proc/" + pid + "/ns/" + n); err != nil || !os.SameFile(held, ns) {
				t.Errorf("%s/%s is not the container's %s namespace (%v)", h, n, n, err)
			}
		}
		run(t, bin("pin"), "-d", h)
		if _, err := os.Lstat(h); !os.IsNotExist(err) {
			t.Errorf("pin -d left %s: %v", h, err)
		}
		if !gone(holder) {
			t.Errorf("the holder %d still runs after pin -d", holder)
		}
	})

	t.Run("lsns", func(t *testing.T) {
		r := run(t, bin("lsns"), "-n", "-t", "uts", "-o", "NS,PID")
		ino := strings.TrimSuffix(strings.TrimPrefix(nsOf(t, pid, "uts"), "uts:["), "]")
		if !regexp.MustCompile(`(?m)^\s*` + ino + `\s+` + pid + `\s*$`).MatchString(r.Stdout) {
			t.Errorf("lsns -t uts does not list the container's namespace %s (PID %s):\n%s", ino, pid, r.Stdout)
		}
	})

	t.Run("nsid", func(t *testing.T) {
		r := run(t, bin("nsid"), "/proc/"+pid+"/ns/net")
		if want := nsOf(t, pid, "net") + "\n"; r.Stdout != want {
			t.Errorf("nsid: %q, want %q", r.Stdout, want)
		}
	})

	t.Run("mkbridge", func(t *testing.T) {
		br := fmt.Sprintf("nsbst%d", os.Getpid()%100000)
		t.Cleanup(func() { exec.Command("ip", "link", "del", br).Run() }) // only if the test fails half-way
		r := run(t, bin("mkbridge"), "-b", br, "--bridge-addr", "10.209.7.1/24", pid)
		f := strings.Fields(r.Stdout)
		if len(f) != 2 || !strings.HasPrefix(f[1], "10.209.7.") {
			t.Fatalf("mkbridge: %s", r)
		}
		if master, _ := os.Readlink("/sys/class/net/" + f[0] + "/master"); filepath.Base(master) != br {
			t.Errorf("%s is not a port of %s", f[0], br)
		}
		r = run(t, bin("nsenter"), "-t", pid, "-n", "ip", "-o", "-4", "addr", "show", "dev", "eth0")
		if !strings.Contains(r.Stdout, " "+f[1]+" ") {
			t.Errorf("the container's eth0 has not %s: %s", f[1], r.Stdout)
		}
		run(t, bin("mkbridge"), "-d", "--delete-bridge", pid)
		for _, l := range []string{f[0], br} {
			if _, err := os.Lstat("/sys/class/net/" + l); err == nil {
				t.Errorf("mkbridge -d --delete-bridge left %s", l)
			}
		}
	})

	t.Run("pivot", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "root")
		if out, err := exec.Command("cp", "-a", testutil.Rootfs(t), root).CombinedOutput(); err != nil {
			t.Fatalf("cp -a: %v: %s", err, out)
		}
		r := run(t, bin("unshare"), "-m", "-p", "-f", bin("pivot"), root, "/bin/sh", "-c", "echo $$; ls /bin/busybox")
		if r.Stdout != "1\n/bin/busybox\n" {
			t.Errorf("pivot: %q, want PID 1 in the new root", r.Stdout)
		}
	})

	t.Run("setuidmap", func(t *testing.T) {
		u := testutil.Start(t, testutil.Opts{}, "unshare", "-U", "sleep", "600").WaitExec(t, "sleep", 10*time.Second)
		upid := strconv.Itoa(u.Pid())
		run(t, bin("setuidmap"), "-u", "0:0:1", "-g", "0:0:1", upid)
		if m := strings.Fields(readFile("/proc/" + upid + "/uid_map")); strings.Join(m, " ") != "0 0 1" {
			t.Errorf("setuidmap: uid_map %q, want 0 0 1", m)
		}
	})
}

// standaloneDir returns the directory of the standalone binaries.
func standaloneDir(t *testing.T) string {
	if d := os.Getenv("NSBOX_CMDS_DIR"); d != "" {
		return d
	}
	d := t.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-o", d+"/", "../...")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./cmds/...: %v\n%s", err, out)
	}
	return d
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// procState is the state letter of /proc/PID/stat, "" when there is no
// such process.
func procState(pid int) string {
	s := readFile(fmt.Sprintf("/proc/%d/stat", pid))
	if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
		return s[i+2 : i+3]
	}
	return ""
}

// gone waits up to 3 s for pid to end (a zombie has).
func gone(pid int) bool {
	for i := 0; i < 300; i++ {
		if procState(pid) == "" || procState(pid) == "Z" {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
