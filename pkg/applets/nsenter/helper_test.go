package nsenter_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsexec"
)

// helperEnv makes the test binary run a helper program instead of the
// tests (TestMain): its value names the helper, the arguments follow.
const helperEnv = "NSBOX_NSENTER_TEST_HELPER"

// runHelper runs helper mode with args and returns the exit status. The
// main goroutine is on the main thread: nsexec's init locked it there.
func runHelper(mode string, args []string) int {
	switch mode {
	case "socket":
		return socketHelper()
	case "join", "hazard":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, "usage: join|hazard PID MARKER")
			return 2
		}
		pid, _ := strconv.Atoi(args[0])
		return joinHelper(mode, pid, args[1])
	}
	fmt.Fprintf(os.Stderr, "unknown helper %q\n", mode)
	return 2
}

// socketHelper opens a socket in the current network namespace, then moves
// itself into a new one, prints the socket's descriptor and waits: a
// process whose socket lives in another network namespace than itself.
func socketHelper() int {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// /proc/PID/ns/net is the main thread's, which this goroutine is on.
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("%d\n", s)
	time.Sleep(10 * time.Minute)
	return 0
}

// joinHelper checks MECHANICS §6 in this (multi-threaded Go) process: a
// mount-namespace join must move the joining thread only. Another thread,
// started first and locked to its own OS thread, looks for MARKER (a file
// that exists only in PID's mount namespace) before and after.
//
// "join" enters PID's uts and mount namespaces with nsexec.JoinPlan.Exec, by
// pidfd and by file (the program does not exist, so Exec returns after the
// join). "hazard" is the control: setns(pidfd, CLONE_NEWNS|CLONE_NEWUTS)
// without unshare(CLONE_FS) first (with CLONE_NEWNS alone the kernel
// refuses a shared fs_struct; with another type it copies it, then moves
// the shared one), which must be seen to move the other thread too, so
// that the check can tell. It prints "joiner=BOOL other=BOOL" for each way.
func joinHelper(mode string, pid int, marker string) int {
	type req struct{ reply chan bool }
	reqs := make(chan req)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread stays this goroutine's
		for r := range reqs {
			r.reply <- exists(marker)
		}
	}()
	other := func() bool {
		r := req{make(chan bool)}
		reqs <- r
		return <-r.reply
	}
	if exists(marker) || other() {
		fmt.Println("marker visible before joining")
		return 1
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if mode == "hazard" {
		if err := unix.Setns(pidfd, unix.CLONE_NEWNS|unix.CLONE_NEWUTS); err != nil {
			fmt.Fprintln(os.Stderr, "setns:", err)
			return 1
		}
		fmt.Printf("hazard joiner=%v other=%v\n", exists(marker), other())
		return 0
	}
	mnt, _ := ns.ByName("mnt")
	uts, _ := ns.ByName("uts")
	for _, way := range []string{"file", "pidfd"} {
		// Each way in a thread of its own: once joined, a thread stays in
		// the target's namespace.
		done := make(chan string)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread is discarded
			jp := nsexec.NewJoinPlan("nsenter")
			for _, typ := range []ns.Type{uts, mnt} {
				fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, typ.String()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					done <- err.Error()
					return
				}
				jp.Joins = append(jp.Joins, nsexec.Join{Type: typ, Fd: fd})
			}
			if way == "pidfd" {
				jp.PidFd, jp.PidMask = pidfd, unix.CLONE_NEWNS|unix.CLONE_NEWUTS
			}
			jp.Path, jp.Argv, jp.Env = "/nonexistent-nsbox-helper", []string{"x"}, os.Environ()
			err := jp.Exec() // fails at exec, after entering
			var e *nsexec.Error
			if ok := asError(err, &e); !ok || e.Code != 127 {
				done <- fmt.Sprintf("Exec: %v", err)
				return
			}
			done <- fmt.Sprintf("%s joiner=%v other=%v", way, exists(marker), other())
		}()
		fmt.Println(<-done)
	}
	return 0
}

func asError(err error, e **nsexec.Error) bool {
	x, ok := err.(*nsexec.Error)
	if ok {
		*e = x
	}
	return ok
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
