package testutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultTimeout bounds Run, RunAs and RunWith when Opts.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Opts configures RunWith and Start. The zero value runs the command as the
// test process's user, in the test's working directory, with its
// environment, stdin from /dev/null and DefaultTimeout (Run) or no timeout
// (Start).
type Opts struct {
	Stdin   io.Reader     // nil: /dev/null
	Env     []string      // "K=V" added to the inherited environment (later wins)
	Dir     string        // working directory; "": the test's, or User.Home with User
	Timeout time.Duration // kill the process group after this; 0: default (see above)
	User    *User         // run as this user (see RunAs); nil: as the test process
	// Etc, with User, is a directory laid over /etc besides the user's
	// files (an overlay, read-only: its files keep their owners, modes
	// and symbolic links), e.g. a policy file as etc/nsbox/usernet.
	Etc string
}

// Result is how a command ended.
type Result struct {
	Stdout, Stderr string
	Code           int  // exit status; -1 when killed by a signal
	Signal         int  // the signal that killed it, else 0
	TimedOut       bool // killed by testutil because Opts.Timeout expired
}

// Status describes how the command ended: "exit 3", "signal 15 (terminated)".
func (r Result) Status() string {
	s := fmt.Sprintf("exit %d", r.Code)
	if r.Signal != 0 {
		s = fmt.Sprintf("signal %d (%v)", r.Signal, syscall.Signal(r.Signal))
	}
	if r.TimedOut {
		s += ", timed out"
	}
	return s
}

// String is Status with the output, for failure messages.
func (r Result) String() string {
	return fmt.Sprintf("%s\n--- stdout:\n%s--- stderr:\n%s", r.Status(), r.Stdout, r.Stderr)
}

// Run runs argv as the test process's user with DefaultTimeout. A non-zero
// exit status or a signal is not a test failure; not being able to start
// argv[0] is (t.Fatalf), and so is a timeout (t.Errorf, and the process
// group is killed). Processes the command leaves behind in its process
// group are reported (t.Errorf) and killed.
func Run(t testing.TB, argv ...string) Result {
	t.Helper()
	return RunWith(t, Opts{}, argv...)
}

// RunAs is Run as user u (see Unprivileged): the command sees u in
// /etc/passwd and /etc/group, u's ranges in /etc/subuid and /etc/subgid,
// runs with uid and gid u.UID/u.GID and groups [u.GID], HOME/USER/LOGNAME
// of u, in u.Home. An argv[0] that u cannot execute (a binary under a 0700
// t.TempDir, say) is copied to a directory u can reach first. Skips the
// test when not root.
func RunAs(t testing.TB, u *User, argv ...string) Result {
	t.Helper()
	return RunWith(t, Opts{User: u}, argv...)
}

// RunWith is Run with options.
func RunWith(t testing.TB, o Opts, argv ...string) Result {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	// Leave time for cleanups before `go test -timeout` panics.
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			if left := time.Until(dl) - 2*time.Second; left > 0 && left < o.Timeout {
				o.Timeout = left
			}
		}
	}
	p := start(t, o, argv)
	r := p.Wait()
	if r.TimedOut {
		t.Errorf("%s: timed out after %v, killed\n%v", strings.Join(argv, " "), o.Timeout, r)
	}
	p.reapGroup()
	return r
}

// Proc is a command started by Start.
type Proc struct {
	t      testing.TB
	argv   []string
	cmd    *exec.Cmd
	pid    int
	stdout syncBuffer
	stderr syncBuffer

	done     chan struct{} // closed when the process has been waited for
	res      Result
	mu       sync.Mutex
	timedOut bool
	timer    *time.Timer
}

// Start starts argv in the background and returns at once (with a User, once
// the command itself has been exec'ed). The process is killed (SIGKILL to
// its process group) and waited for at t.Cleanup if it is still running.
// o.Timeout, if set, kills it like Run's timeout; by default there is none.
func Start(t testing.TB, o Opts, argv ...string) *Proc {
	t.Helper()
	p := start(t, o, argv)
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.killGroup()
			<-p.done
		}
		p.killGroup() // stragglers in its process group
	})
	return p
}

// Pid is the command's process ID, also its process group ID.
func (p *Proc) Pid() int { return p.pid }

// Stdout returns what the command has written to stdout so far.
func (p *Proc) Stdout() string { return p.stdout.String() }

// Stderr returns what the command has written to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Done is closed when the command has exited and been waited for.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Signal sends sig to the command (not its process group).
func (p *Proc) Signal(sig syscall.Signal) error { return unix.Kill(p.pid, sig) }

// Wait waits for the command to exit and returns its result.
func (p *Proc) Wait() Result {
	<-p.done
	return p.res
}

// Stop sends SIGTERM to the command, waits up to 5 s, then kills its
// process group, and returns the result.
func (p *Proc) Stop() Result {
	select {
	case <-p.done:
		return p.res
	default:
	}
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.killGroup()
		<-p.done
	}
	return p.res
}

// WaitOutput waits until stdout contains substr and returns stdout so far.
// It fails the test (t.Fatalf) if the command exits first or timeout passes.
// It is how a test waits for a background command to be ready.
func (p *Proc) WaitOutput(substr string, timeout time.Duration) string {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		if s := p.Stdout(); strings.Contains(s, substr) {
			return s
		}
		select {
		case <-p.done:
			if s := p.Stdout(); strings.Contains(s, substr) {
				return s
			}
			p.t.Fatalf("%s exited before printing %q: %v", strings.Join(p.argv, " "), substr, p.res)
		case <-deadline:
			p.t.Fatalf("%s did not print %q within %v\n--- stdout:\n%s--- stderr:\n%s",
				strings.Join(p.argv, " "), substr, timeout, p.Stdout(), p.Stderr())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (p *Proc) killGroup() {
	p.mu.Lock()
	defer p.mu.Unlock()
	unix.Kill(-p.pid, unix.SIGKILL)
}

// reapGroup reports and kills what the command left in its process group.
func (p *Proc) reapGroup() {
	p.t.Helper()
	var left []proc
	for deadline := time.Now().Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
		if left = groupMembers(p.pid); len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) == 0 {
		return
	}
	var desc []string
	for _, q := range left {
		desc = append(desc, "  "+q.String())
	}
	p.killGroup()
	p.t.Errorf("%s left processes in its process group (killed now):\n%s",
		strings.Join(p.argv, " "), strings.Join(desc, "\n"))
}

func start(t testing.TB, o Opts, argv []string) *Proc {
	t.Helper()
	if len(argv) == 0 {
		t.Fatalf("testutil: no command")
	}
	argv = append([]string(nil), argv...)
	if strings.Contains(argv[0], "/") && !filepath.IsAbs(argv[0]) {
		abs, err := filepath.Abs(argv[0])
		if err != nil {
			t.Fatalf("%v", err)
		}
		argv[0] = abs
	}
	env := mergeEnv(os.Environ(), nil)
	var cmd *exec.Cmd
	var errR *os.File
	if u := o.User; u != nil {
		RequireRoot(t)
		if strings.Contains(argv[0], "/") {
			argv[0] = shareExecutable(t, argv[0], u)
		}
		dir := o.Dir
		if dir == "" {
			dir = u.Home
		}
		binds, overlay := prepareEtc(t, u, o.Etc != "")
		cfg, err := json.Marshal(helperConfig{
			Binds:   binds,
			Overlay: overlay,
			Etc:     o.Etc,
			UID:     u.UID,
			GID:     u.GID,
			Dir:     dir,
			Env:     mergeEnv(env, append(u.env(), o.Env...)),
			Argv:    argv,
		})
		if err != nil {
			t.Fatalf("%v", err)
		}
		self, err := os.Executable()
		if err != nil {
			t.Fatalf("RunAs: %v", err)
		}
		cmd = exec.Command(self)
		cmd.Args = []string{"testutil-runas"}
		cmd.Env = []string{helperEnv + "=" + string(cfg)}
		var errW *os.File
		errR, errW, err = os.Pipe()
		if err != nil {
			t.Fatalf("%v", err)
		}
		defer errW.Close()
		defer errR.Close()
		cmd.ExtraFiles = []*os.File{errW}
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Setpgid:      true,
			Unshareflags: syscall.CLONE_NEWNS, // and makes / rprivate
		}
	} else {
		cmd = exec.Command(argv[0], argv[1:]...)
		cmd.Env = mergeEnv(env, o.Env)
		cmd.Dir = o.Dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	p := &Proc{t: t, argv: argv, cmd: cmd, done: make(chan struct{})}
	cmd.Stdin = o.Stdin
	cmd.Stdout = &p.stdout
	cmd.Stderr = &p.stderr
	// If a descendant keeps stdout open after the command exits, stop
	// waiting for it after a while.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", strings.Join(argv, " "), err)
	}
	p.pid = cmd.Process.Pid

	if errR != nil {
		cmd.ExtraFiles[0].Close() // our copy of the write end
		errR.SetReadDeadline(time.Now().Add(DefaultTimeout))
		msg, err := io.ReadAll(errR)
		if len(msg) > 0 || err != nil {
			unix.Kill(-p.pid, unix.SIGKILL)
			cmd.Wait()
			if err != nil {
				t.Fatalf("RunAs %s: waiting for the helper: %v\n--- stderr:\n%s", strings.Join(argv, " "), err, p.stderr.String())
			}
			t.Fatalf("RunAs %s: %s", strings.Join(argv, " "), msg)
		}
	}

	if o.Timeout > 0 {
		p.timer = time.AfterFunc(o.Timeout, func() {
			p.mu.Lock()
			p.timedOut = true
			p.mu.Unlock()
			p.killGroup()
		})
	}
	go p.wait()
	return p
}

func (p *Proc) wait() {
	err := p.cmd.Wait()
	if p.timer != nil {
		p.timer.Stop()
	}
	r := Result{Stdout: p.stdout.String(), Stderr: p.stderr.String(), Code: -1}
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay), errors.As(err, &exitErr):
		ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.Signal = int(ws.Signal())
		} else {
			r.Code = ws.ExitStatus()
		}
	default:
		r.Stderr += fmt.Sprintf("\n[testutil: wait: %v]", err)
	}
	p.mu.Lock()
	r.TimedOut = p.timedOut
	p.mu.Unlock()
	p.res = r
	close(p.done)
}

// mergeEnv returns base with extra applied ("K=V", later wins), without the
// helper marker.
func mergeEnv(base, extra []string) []string {
	idx := map[string]int{}
	var out []string
	for _, kv := range append(append([]string(nil), base...), extra...) {
		k, _, _ := strings.Cut(kv, "=")
		if k == helperEnv {
			continue
		}
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Outcome is how a command ended, in a form compared with ==: what the
// tests that run nsbox beside util-linux compare.
type Outcome struct {
	Out, Err  string
	Code, Sig int
}

// Outcome returns r's stdout, stderr, exit code and signal.
func (r Result) Outcome() Outcome {
	return Outcome{Out: r.Stdout, Err: r.Stderr, Code: r.Code, Sig: r.Signal}
}

func (o Outcome) String() string {
	return fmt.Sprintf("%s\n--- stdout:\n%s--- stderr:\n%s", Result{Code: o.Code, Signal: o.Sig}.Status(), o.Out, o.Err)
}

// Must stops the test unless r exited with want (and did not time out).
func Must(t testing.TB, r Result, want int) {
	t.Helper()
	if r.Code != want || r.TimedOut {
		t.Fatalf("want exit %d, got %s", want, r.String())
	}
}

// Refused checks a refusal: exit code, exactly stderr, nothing on stdout.
func Refused(t testing.TB, r Result, code int, stderr string) {
	t.Helper()
	if r.Code != code || r.Stderr != stderr || r.Stdout != "" {
		t.Errorf("want exit %d and stderr %q, got %s", code, stderr, r.String())
	}
}

// Fails is Refused with exit status 1, an applet's error.
func Fails(t testing.TB, r Result, stderr string) {
	t.Helper()
	Refused(t, r, 1, stderr)
}

// ExecComm returns the command name of process pid once its last execve
// is complete, and "" while it is not (or the process is gone): execve
// gives the new command name together with the new, still empty memory
// map, and /proc/PID/cmdline and environ read empty until the new stack
// is laid out.
func ExecComm(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	if c, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err != nil || len(c) == 0 {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// WaitExec waits until p runs the program whose /proc/PID/comm is comm (so
// that what p set up before that exec, its namespaces say, exists), and
// returns p. The test fails at once when p ends first or timeout passes.
func (p *Proc) WaitExec(t testing.TB, comm string, timeout time.Duration) *Proc {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if ExecComm(p.Pid()) == comm {
			return p
		}
		select {
		case <-p.Done():
			t.Fatalf("process %d ended before it ran %s: %v", p.Pid(), comm, p.Wait())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not run %s within %v", p.Pid(), comm, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
