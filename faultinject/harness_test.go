package faultinject

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsbox/nsbox/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// defaultRounds is how many times each case is killed (NSBOX_FAULT_ROUNDS).
const defaultRounds = 40

// A kcase is a command to kill and how to undo it.
type kcase struct {
	name string
	// needs, when set, is the fix the case needs that this tree does
	// not have yet: the case is skipped, saying so.
	needs string
	// syscalls is the set of system calls (strace's -e trace= syntax)
	// among which the syscall-level kill points are drawn: those that
	// change something.
	syscalls string
	fixture  func(e *env)         // once, before the rounds: containers, names
	prepare  func(e *env)         // before each run, killed or not; nil: nothing
	command  func(e *env) cmdline // what is killed
	undo     func(e *env) []cmdline
	dirs     func(e *env) []string // directories whose entries are checked; nil: none
	// killed, when set, checks what the command left right after the
	// kill, before the undo (a pid file: whole or missing): a problem,
	// or "".
	killed func(e *env) string
}

// cmdline is a command to run: its arguments, standard input and
// environment (added to the test's); ok are texts of its standard error
// with which a failure of an undo step means "nothing left to undo".
type cmdline struct {
	argv  []string
	stdin string
	env   []string
	ok    []string
}

func (c cmdline) String() string { return strings.Join(c.argv, " ") }

// point is where a run is killed: after delay, or at the n-th call of
// syscall by a thread (strace --inject).
type point struct {
	delay   time.Duration
	syscall string
	n       int
}

func (p point) String() string {
	if p.syscall != "" {
		return fmt.Sprintf("SIGKILL at %s call %d", p.syscall, p.n)
	}
	return fmt.Sprintf("SIGKILL after %v", p.delay)
}

// tally counts what the rounds of a case saw.
type tally struct {
	rounds, killedDelay, killedCall, finished int
	leftovers                                 int // rounds whose kill left something, removed by the undo
	leaked, stuck, unremoved                  int
}

func (a *tally) add(b tally) {
	a.rounds += b.rounds
	a.killedDelay += b.killedDelay
	a.killedCall += b.killedCall
	a.finished += b.finished
	a.leftovers += b.leftovers
	a.leaked += b.leaked
	a.stuck += b.stuck
	a.unremoved += b.unremoved
}

func (a tally) String() string {
	return fmt.Sprintf("%d runs: %d killed (%d at a random delay, %d at a system call), %d finished before the kill; "+
		"%d kills left something behind for the undo; %d leaked processes, %d stuck states, %d leftovers the undo did not remove",
		a.rounds, a.killedDelay+a.killedCall, a.killedDelay, a.killedCall, a.finished, a.leftovers, a.leaked, a.stuck, a.unremoved)
}

// TestFaultInjection kills each case's command at random points, rounds
// times, and checks each time (see the package comment).
func TestFaultInjection(t *testing.T) {
	testutil.RequireRoot(t)
	seed := envInt("NSBOX_FAULT_SEED", time.Now().UnixNano()%1e9)
	rounds := int(envInt("NSBOX_FAULT_ROUNDS", defaultRounds))
	t.Logf("seed %d: NSBOX_FAULT_SEED=%d reproduces this run's kill points", seed, seed)
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Logf("no strace (make deps installs it): every kill is at a random delay")
		strace = ""
	}
	var total tally
	for i, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			if c.needs != "" && os.Getenv("NSBOX_FAULT_ALL") == "" {
				t.Skip(c.needs + " (NSBOX_FAULT_ALL=1 runs it)")
			}
			h := &harness{t: t, c: c, strace: strace, seed: seed, rounds: rounds,
				rng: rand.New(rand.NewPCG(uint64(seed), caseSeed(c.name)))}
			h.run(i)
			t.Logf("%s: %s", c.name, h.tally)
			total.add(h.tally)
		})
	}
	t.Logf("all cases, seed %d: %s", seed, total)
}

func envInt(name string, def int64) int64 {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return def
}

// caseSeed is the second half of a case's random stream: its name's hash.
func caseSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// harness runs one case.
type harness struct {
	t      *testing.T
	c      kcase
	e      *env
	strace string
	seed   int64
	rounds int
	rng    *rand.Rand
	tally  tally
	dur    time.Duration // a normal run's time
	calls  []call        // a normal run's system calls of c.syscalls
}

// call is the n-th call of a system call by one thread.
type call struct {
	name string
	n    int
}

func (h *harness) run(id int) {
	t := h.t
	h.e = newEnv(t, id)
	if h.c.fixture != nil {
		h.c.fixture(h.e)
	}
	var dirs []string
	if h.c.dirs != nil {
		dirs = h.c.dirs(h.e)
	}
	h.e.dirs = dirs
	base := h.e.state()
	if !h.calibrate(base) {
		h.cleanUp()
		return
	}
	for i := 0; i < h.rounds; i++ {
		p := h.point()
		if !h.round(base, i, p) {
			h.cleanUp()
			return
		}
	}
}

// cleanUp, after a failure, kills what is left in the cgroup, runs the
// undo once more whatever it says, and scrubs what even that left, so
// that the next cases and tests start clean (the failure is reported).
func (h *harness) cleanUp() {
	h.e.cg.Kill(5 * time.Second)
	for _, u := range h.c.undo(h.e) {
		h.e.run(u)
	}
	h.e.cg.Kill(5 * time.Second)
	h.e.scrub()
}

// fail reports a failure of round i at point p, naming the seed and case.
func (h *harness) fail(i int, p point, format string, args ...any) {
	h.t.Helper()
	h.t.Errorf("seed %d, case %q, round %d (%s): %s\nrerun: NSBOX_FAULT_SEED=%d go test -run 'TestFaultInjection/%s' ./faultinject",
		h.seed, h.c.name, i, p, fmt.Sprintf(format, args...), h.seed, "^"+regexp.QuoteMeta(strings.ReplaceAll(h.c.name, " ", "_"))+"$")
}

// calibrate times three normal runs and traces one (with strace), each
// undone and checked as a round is.
func (h *harness) calibrate(base hostState) bool {
	var durs []time.Duration
	for i := 0; i < 3; i++ {
		r, ok := h.normal(base, -1, point{})
		if !ok {
			return false
		}
		durs = append(durs, r.dur)
	}
	slices.Sort(durs)
	h.dur = durs[1]
	if h.strace == "" || h.c.syscalls == "" {
		return true
	}
	trace := h.t.TempDir() + "/trace"
	h.prepare()
	r := h.e.exec(h.traced("-o", trace, "-e", "trace="+h.c.syscalls), h.c.command(h.e), 30*time.Second)
	if r.code != 0 {
		h.t.Errorf("case %q: a run under strace: %s", h.c.name, r)
		return false
	}
	// strace has written all once it has gone, after the undo.
	if !h.undo(-1, point{}, false) || !h.check(base, -1, point{}, false) {
		return false
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		h.t.Fatal(err)
	}
	h.calls = parseTrace(string(b))
	return true
}

// traced is strace's command line before the command's: following every
// thread and child, as a detached grandchild (-D): the command is the
// process started, so its status is the command's, and strace goes when
// the last of the processes it follows has gone. (Not --seccomp-bpf:
// strace 6.1 injects no signal with it.)
func (h *harness) traced(opts ...string) []string {
	return append([]string{h.strace, "-D", "-f", "-qq"}, opts...)
}

var traceLine = regexp.MustCompile(`(?m)^(\d+) +([a-z0-9_]+)\(`)

// parseTrace returns the calls of a strace -f log, each the n-th of its
// name by its thread.
func parseTrace(log string) []call {
	seen := map[string]int{}
	var out []call
	for _, m := range traceLine.FindAllStringSubmatch(log, -1) {
		k := m[1] + " " + m[2]
		seen[k]++
		out = append(out, call{m[2], seen[k]})
	}
	return out
}

// point draws a kill point: a delay within 1.2 times a normal run's time,
// or one of the traced calls, one in two.
func (h *harness) point() point {
	if len(h.calls) > 0 && h.rng.IntN(2) == 0 {
		c := h.calls[h.rng.IntN(len(h.calls))]
		return point{syscall: c.name, n: c.n}
	}
	return point{delay: time.Duration(h.rng.Int64N(int64(h.dur*6/5) + 1))}
}

// round kills the command at p, undoes what is left, checks the host, and
// runs the command again, undone and checked; false: stop the case.
func (h *harness) round(base hostState, i int, p point) bool {
	h.tally.rounds++
	h.prepare()
	r, ok := h.kill(i, p)
	if !ok {
		return false
	}
	// At a system call, the process killed may be one the command
	// started (strace -f follows them all): the command then fails, as
	// it should, saying why.
	killed := r.sig == syscall.SIGKILL || (p.syscall != "" && r.code != 0)
	switch {
	case !killed:
		h.tally.finished++
		if r.code != 0 {
			h.fail(i, p, "the run, not killed, failed: %s", r)
			return false
		}
	case p.syscall != "":
		h.tally.killedCall++
	default:
		h.tally.killedDelay++
	}
	if killed && (h.e.state().diff(base) != "" || h.e.leftProcs()) {
		h.tally.leftovers++
	}
	if h.c.killed != nil {
		if bad := h.c.killed(h.e); bad != "" {
			h.tally.unremoved++
			h.fail(i, p, "after the kill: %s", bad)
			return false
		}
	}
	if !h.undo(i, p, true) || !h.check(base, i, p, true) {
		return false
	}
	_, ok = h.normal(base, i, p)
	return ok
}

// normal is a run not killed, which must succeed, then its undo and the
// check.
func (h *harness) normal(base hostState, i int, p point) (result, bool) {
	h.prepare()
	r := h.e.exec(nil, h.c.command(h.e), 30*time.Second)
	if r.code != 0 {
		h.tally.stuck++
		h.fail(i, p, "the next run of %s failed: %s", h.c.command(h.e), r)
		return r, false
	}
	if !h.undo(i, p, false) || !h.check(base, i, p, false) {
		return r, false
	}
	return r, true
}

func (h *harness) prepare() {
	if h.c.prepare != nil {
		h.c.prepare(h.e)
	}
}

// kill runs the command and kills it at p.
func (h *harness) kill(i int, p point) (result, bool) {
	cl := h.c.command(h.e)
	if p.syscall != "" {
		inject := fmt.Sprintf("inject=%s:signal=SIGKILL:when=%d", p.syscall, p.n)
		r := h.e.exec(h.traced("-o", "/dev/null", "-e", "trace="+p.syscall, "-e", inject), cl, 30*time.Second)
		if r.timedOut {
			h.fail(i, p, "still running after 30 s: %s", r)
			return r, false
		}
		return r, true
	}
	r := h.e.execKill(cl, p.delay)
	if r.timedOut {
		h.fail(i, p, "still running after 30 s: %s", r)
		return r, false
	}
	return r, true
}

// undo runs the case's undo; a step's failure is accepted only with one
// of its texts (there was nothing to undo).
func (h *harness) undo(i int, p point, killed bool) bool {
	for _, u := range h.c.undo(h.e) {
		r := h.e.exec(nil, u, 30*time.Second)
		if r.code == 0 {
			continue
		}
		if !slices.ContainsFunc(u.ok, func(s string) bool { return strings.Contains(r.stderr, s) }) {
			if killed {
				h.tally.unremoved++
			}
			h.fail(i, p, "the undo %s failed: %s", u, r)
			return false
		}
	}
	return true
}

// check waits for the cgroup to empty and the host to come back to base.
func (h *harness) check(base hostState, i int, p point, killed bool) bool {
	if left := h.e.cg.WaitEmpty(3 * time.Second); len(left) > 0 {
		h.tally.leaked++
		h.fail(i, p, "processes left after the undo:\n%s", testutil.Describe(left))
		return false
	}
	if d := h.e.settle(base, 3*time.Second); d != "" {
		if killed {
			h.tally.unremoved++
		} else {
			h.tally.stuck++
		}
		h.fail(i, p, "left after the undo:\n%s", d)
		return false
	}
	return true
}

// result is how a command ended.
type result struct {
	cl             cmdline
	code           int // -1: killed by a signal
	sig            syscall.Signal
	stdout, stderr string
	dur            time.Duration
	timedOut       bool
}

func (r result) String() string {
	st := fmt.Sprintf("exit %d", r.code)
	if r.code < 0 {
		st = "killed by " + r.sig.String()
	}
	return fmt.Sprintf("%s: %s\n--- stdout:\n%s--- stderr:\n%s", r.cl, st, r.stdout, r.stderr)
}

// start starts prefix (strace's options, or none) and cl in the cgroup.
func (e *env) start(prefix []string, cl cmdline) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	argv := cl.argv
	if len(prefix) > 0 {
		argv = append(append(append([]string(nil), prefix...), "--"), cl.argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), cl.env...)
	cmd.Stdin = strings.NewReader(cl.stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = time.Second // a helper that keeps the pipes open
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: e.cg.Fd()}
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("start %s: %v", strings.Join(argv, " "), err)
	}
	return cmd, &out, &errb
}

// exec runs cl (after prefix) to its end, killing it after timeout.
func (e *env) exec(prefix []string, cl cmdline, timeout time.Duration) result {
	start := time.Now()
	cmd, out, errb := e.start(prefix, cl)
	timer := time.AfterFunc(timeout, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	return e.ended(cl, cmd, err, !timer.Stop(), start, out, errb)
}

// execKill runs cl and kills it (SIGKILL to its process, not to those
// it started) after delay.
func (e *env) execKill(cl cmdline, delay time.Duration) result {
	start := time.Now()
	cmd, out, errb := e.start(nil, cl)
	time.Sleep(delay - time.Since(start))
	cmd.Process.Signal(syscall.SIGKILL)
	timer := time.AfterFunc(30*time.Second, func() { e.cg.Kill(time.Second) })
	err := cmd.Wait()
	return e.ended(cl, cmd, err, !timer.Stop(), start, out, errb)
}

func (e *env) ended(cl cmdline, cmd *exec.Cmd, err error, timedOut bool, start time.Time, out, errb *bytes.Buffer) result {
	r := result{cl: cl, dur: time.Since(start), timedOut: timedOut, code: -1}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) {
		e.t.Fatalf("%s: %v", cl, err)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		r.sig = ws.Signal()
	} else {
		r.code = ws.ExitStatus()
	}
	r.stdout, r.stderr = out.String(), errb.String()
	return r
}
