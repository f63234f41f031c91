// Package nsexec carries out the steps that put a program into new
// namespaces, in util-linux unshare's order, and execs it.
//
// The steps are described by a Plan. A Plan runs in one of three places:
//
//   - in-process (Exec), on the locked main thread of the Go process, when
//     no user namespace has to be created by this process;
//   - in the pre-runtime C constructor (cgo builds), after a re-exec of
//     /proc/self/exe with the Plan in the environment: for a user namespace
//     without a fork (the Go runtime is multi-threaded and cannot unshare
//     one) and as the child stage of --fork, so that neither starts the Go
//     runtime a second time;
//   - in Go as the child stage (CGO_ENABLED=0 builds), the same steps as
//     in-process after a second runtime start.
//
// The environment variables of the re-exec are the interface between the Go
// and C halves; their names all start with EnvPrefix and are removed before
// the program runs. The Go stages (ChildStage, InitStage) are registered
// with pkg/reexec by the applet that starts them; no stage runs in a
// set-user-ID process.
package nsexec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/reexec"
)

// EnvPrefix starts the name of every variable of the stage protocol.
const EnvPrefix = "_NSBOX_"

// EnvStage names the stage (reexec.Marker, which starts with EnvPrefix):
// "self" (unshare in place, then exec), "child" (the forked child of
// --fork), "init" (the minimal init, in Go).
const EnvStage = reexec.Marker

// Pin asks for the namespace file File (under /proc/PID/ns) to be
// bind-mounted onto Path.
type Pin struct {
	File string
	Path string
}

// Plan is the list of steps, in the order they run.
type Plan struct {
	Name string // applet name, the prefix of every message

	Pdeathsig int     // child stage: PR_SET_PDEATHSIG
	SyncFd    int     // child stage: read a byte before anything else (-1: none)
	ReadyFd   int     // child stage: write a byte after propagation, then read SyncFd again (-1: none)
	Unshare   uintptr // namespaces this stage unshares itself
	UIDMap    *idmap.Single
	GIDMap    *idmap.Single
	Setgroups string // "", "allow", "deny"

	TimeOffsets bool
	Monotonic   int64
	Boottime    int64

	Propagation uintptr // MS_* for mount("none", "/", MS_REC|...); 0: unchanged

	Pins      []Pin   // bound from the original mount namespace after propagation
	NotifyFds []int   // get "PID\n" once pins exist, then are closed
	PidLink   PidLink // names the first of NotifyFds once written (Dir -1: none)
	StatusFd  int     // gets Status once pins exist, then is closed (-1: none)

	Hostname    string
	SetHostname bool
	Root        string
	Wd          string
	ProcDir     string // --mount-proc
	BinfmtDir   string // --mount-binfmt
	Interp      string // -l/--load-interp

	Gid, Uid     int // -1: keep
	KeepCaps     bool
	ClearAmbient bool // drop the ambient set raised for the stage

	Init bool     // run the program under the minimal init
	Path string   // program to execute; searched in PATH if it has no '/'
	Argv []string // its argv
	Env  []string // its environment
}

// NewPlan returns a plan that changes nothing and runs nothing yet.
func NewPlan(name string) *Plan {
	return &Plan{Name: name, SyncFd: -1, ReadyFd: -1, StatusFd: -1, Gid: -1, Uid: -1, PidLink: PidLink{Dir: -1}}
}

// Environ returns p's target environment followed by the stage variables
// that describe p to a re-exec'd stage.
func (p *Plan) Environ(stage string) []string {
	env := make([]string, 0, len(p.Env)+16)
	for _, e := range p.Env {
		if !strings.HasPrefix(e, EnvPrefix) {
			env = append(env, e)
		}
	}
	set := func(k, v string) { env = append(env, EnvPrefix+k+"="+v) }
	num := func(k string, v int64) { set(k, strconv.FormatInt(v, 10)) }
	env = append(env, EnvStage+"="+stage)
	set("NAME", p.Name)
	if p.Pdeathsig != 0 {
		num("PDEATHSIG", int64(p.Pdeathsig))
	}
	if p.SyncFd >= 0 {
		num("SYNC", int64(p.SyncFd))
	}
	if p.ReadyFd >= 0 {
		num("READY", int64(p.ReadyFd))
	}
	if p.Unshare != 0 {
		num("UNSHARE", int64(p.Unshare))
	}
	if p.UIDMap != nil {
		set("UIDMAP", fmt.Sprintf("%d %d", p.UIDMap.Inside, p.UIDMap.Outside))
	}
	if p.GIDMap != nil {
		set("GIDMAP", fmt.Sprintf("%d %d", p.GIDMap.Inside, p.GIDMap.Outside))
	}
	if p.Setgroups != "" {
		set("SETGROUPS", p.Setgroups)
	}
	if p.TimeOffsets {
		set("TIMEOFFSETS", fmt.Sprintf("%d %d", p.Monotonic, p.Boottime))
	}
	if p.Propagation != 0 {
		num("PROPAGATION", int64(p.Propagation))
	}
	for i, pin := range p.Pins {
		set("PIN"+strconv.Itoa(i), pin.File+"="+pin.Path)
	}
	if len(p.NotifyFds) > 0 {
		var s []string
		for _, fd := range p.NotifyFds {
			s = append(s, strconv.Itoa(fd))
		}
		set("NOTIFY", strings.Join(s, ","))
	}
	if p.PidLink.Dir >= 0 {
		set("PIDLINK", strconv.Itoa(p.PidLink.Dir)+" "+p.PidLink.Name)
	}
	if p.StatusFd >= 0 {
		num("STATUS", int64(p.StatusFd))
	}
	if p.SetHostname {
		set("HOSTNAME", p.Hostname)
	}
	if p.Root != "" {
		set("ROOT", p.Root)
	}
	if p.Wd != "" {
		set("WD", p.Wd)
	}
	if p.ProcDir != "" {
		set("PROC", p.ProcDir)
	}
	if p.BinfmtDir != "" {
		set("BINFMT", p.BinfmtDir)
	}
	if p.Interp != "" {
		set("INTERP", p.Interp)
	}
	if p.Gid >= 0 {
		num("GID", int64(p.Gid))
	}
	if p.Uid >= 0 {
		num("UID", int64(p.Uid))
	}
	if p.KeepCaps {
		set("KEEPCAPS", "1")
	}
	if p.ClearAmbient {
		set("CLEARAMBIENT", "1")
	}
	if p.Init {
		set("INIT", "1")
	}
	set("EXEC", p.Path)
	return env
}

// Decode rebuilds a plan from a stage's environment and argv (argv[0] is the
// applet name, the rest the program's argv). It is the inverse of Environ.
func Decode(environ, argv []string) (*Plan, string, error) {
	p := NewPlan("")
	stage := ""
	for _, e := range environ {
		if !strings.HasPrefix(e, EnvPrefix) {
			p.Env = append(p.Env, e)
			continue
		}
		k, v, _ := strings.Cut(strings.TrimPrefix(e, EnvPrefix), "=")
		var err error
		atoi := func() int {
			n, e := strconv.Atoi(v)
			if e != nil {
				err = e
			}
			return n
		}
		two := func() (int64, int64) {
			f := strings.Fields(v)
			if len(f) != 2 {
				err = fmt.Errorf("not two numbers: %q", v)
				return 0, 0
			}
			a, e1 := strconv.ParseInt(f[0], 10, 64)
			b, e2 := strconv.ParseInt(f[1], 10, 64)
			if e1 != nil {
				err = e1
			} else if e2 != nil {
				err = e2
			}
			return a, b
		}
		single := func() *idmap.Single {
			a, b := two()
			return &idmap.Single{Inside: uint32(a), Outside: uint32(b)}
		}
		switch {
		case k == "STAGE":
			stage = v
		case k == "NAME":
			p.Name = v
		case k == "PDEATHSIG":
			p.Pdeathsig = atoi()
		case k == "SYNC":
			p.SyncFd = atoi()
		case k == "READY":
			p.ReadyFd = atoi()
		case k == "UNSHARE":
			p.Unshare = uintptr(atoi())
		case k == "UIDMAP":
			p.UIDMap = single()
		case k == "GIDMAP":
			p.GIDMap = single()
		case k == "SETGROUPS":
			p.Setgroups = v
		case k == "TIMEOFFSETS":
			p.TimeOffsets = true
			p.Monotonic, p.Boottime = two()
		case k == "PROPAGATION":
			p.Propagation = uintptr(atoi())
		case strings.HasPrefix(k, "PIN"):
			f, path, _ := strings.Cut(v, "=")
			p.Pins = append(p.Pins, Pin{File: f, Path: path})
		case k == "NOTIFY":
			for _, s := range strings.Split(v, ",") {
				n, e := strconv.Atoi(s)
				if e != nil {
					err = e
				}
				p.NotifyFds = append(p.NotifyFds, n)
			}
		case k == "PIDLINK":
			d, name, _ := strings.Cut(v, " ")
			v = d
			p.PidLink = PidLink{Dir: atoi(), Name: name}
		case k == "STATUS":
			p.StatusFd = atoi()
		case k == "HOSTNAME":
			p.SetHostname, p.Hostname = true, v
		case k == "ROOT":
			p.Root = v
		case k == "WD":
			p.Wd = v
		case k == "PROC":
			p.ProcDir = v
		case k == "BINFMT":
			p.BinfmtDir = v
		case k == "INTERP":
			p.Interp = v
		case k == "GID":
			p.Gid = atoi()
		case k == "UID":
			p.Uid = atoi()
		case k == "KEEPCAPS":
			p.KeepCaps = true
		case k == "CLEARAMBIENT":
			p.ClearAmbient = true
		case k == "INIT":
			p.Init = true
		case k == "EXEC":
			p.Path = v
		}
		if err != nil {
			return nil, "", fmt.Errorf("bad stage variable %s: %v", k, err)
		}
	}
	if len(argv) > 1 {
		p.Argv = argv[1:]
	}
	if p.Path == "" && len(p.Argv) > 0 {
		p.Path = p.Argv[0]
	}
	return p, stage, nil
}
