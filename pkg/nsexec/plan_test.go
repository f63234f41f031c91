package nsexec

import (
	"errors"
	"fmt"
	"github.com/nsbox/nsbox/pkg/errtext"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/idmap"
)

// full sets every field of a plan to a value that differs from NewPlan's.
func full() *Plan {
	return &Plan{
		Name:        "unshare",
		Pdeathsig:   int(unix.SIGKILL),
		SyncFd:      5,
		ReadyFd:     6,
		Unshare:     unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWPID | unix.CLONE_NEWUSER | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME,
		UIDMap:      &idmap.Single{Inside: 0, Outside: 1000},
		GIDMap:      &idmap.Single{Inside: 4294967294, Outside: 4294967294},
		Setgroups:   "deny",
		TimeOffsets: true,
		Monotonic:   -86400,
		Boottime:    1 << 40,
		Propagation: unix.MS_SLAVE,
		Pins: []Pin{
			{File: "net", Path: "/run/netns/a b=c"},
			{File: "pid_for_children", Path: "/tmp/x=y=z"},
			{File: "time_for_children", Path: "relative path"},
		},
		NotifyFds:    []int{3, 10, 255},
		PidLink:      PidLink{Dir: 9, Name: "/run/a b/c.pid"},
		StatusFd:     7,
		Hostname:     "my host name",
		SetHostname:  true,
		Root:         "/srv/root with space=1",
		Wd:           "/work dir=2",
		ProcDir:      "/proc",
		BinfmtDir:    "/proc/sys/fs/binfmt_misc",
		Interp:       ":qemu-arm:M::\\x7fELF\\x01:\\xff\\xff:/usr/bin/qemu-arm:OCF",
		Gid:          100,
		Uid:          1000,
		KeepCaps:     true,
		ClearAmbient: true,
		Init:         true,
		Path:         "/bin/sh",
		Argv:         []string{"sh", "-c", "echo a=b $X"},
		Env:          []string{"HOME=/root", "X=a b=c", "EMPTY=", "PATH=/usr/bin:/bin"},
	}
}

func TestEnvironDecodeRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		stage string
		plan  func() *Plan
	}{
		{"full", "child", full},
		{"minimal", "self", func() *Plan {
			p := NewPlan("unshare")
			p.Path, p.Argv = "true", []string{"true"}
			return p
		}},
		{"zero ids are kept, not dropped", "self", func() *Plan {
			p := NewPlan("unshare")
			p.Gid, p.Uid = 0, 0
			p.SyncFd, p.ReadyFd = 0, 0
			p.UIDMap = &idmap.Single{}
			p.GIDMap = &idmap.Single{}
			p.Path, p.Argv = "/bin/true", []string{"/bin/true"}
			return p
		}},
		{"time offsets of zero", "child", func() *Plan {
			p := NewPlan("unshare")
			p.TimeOffsets = true
			p.Path, p.Argv = "x", []string{"x"}
			return p
		}},
		{"empty hostname is still set", "child", func() *Plan {
			p := NewPlan("unshare")
			p.SetHostname = true
			p.Path, p.Argv = "x", []string{"x"}
			return p
		}},
		{"only boottime", "child", func() *Plan {
			p := NewPlan("unshare")
			p.TimeOffsets, p.Boottime = true, -5
			p.Path, p.Argv = "x", []string{"x"}
			return p
		}},
		{"login shell argv0", "self", func() *Plan {
			p := NewPlan("unshare")
			p.Path, p.Argv = "/bin/bash", []string{"-bash"}
			return p
		}},
		{"init stage", "init", func() *Plan {
			p := NewPlan("nsenter")
			p.Init = true
			p.Path, p.Argv = "sleep", []string{"sleep", "1"}
			p.Env = []string{"A=1"}
			return p
		}},
		{"many pins keep their order", "child", func() *Plan {
			p := NewPlan("unshare")
			for i := 0; i < 12; i++ {
				p.Pins = append(p.Pins, Pin{File: "net", Path: fmt.Sprintf("/pins/%d", i)})
			}
			p.Path, p.Argv = "x", []string{"x"}
			return p
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.plan()
			env := p.Environ(tc.stage)
			argv := append([]string{p.Name}, p.Argv...)
			got, stage, err := Decode(env, argv)
			if err != nil {
				t.Fatalf("Decode(%q): %v", env, err)
			}
			if stage != tc.stage {
				t.Errorf("stage = %q, want %q", stage, tc.stage)
			}
			if !reflect.DeepEqual(got, p) {
				t.Errorf("round trip differs:\n got %+v\nwant %+v\nenv %q", got, p, env)
			}
		})
	}
}

func TestEnvironFiltersStaleVariables(t *testing.T) {
	p := NewPlan("unshare")
	p.Path, p.Argv = "x", []string{"x"}
	p.Env = []string{
		"A=1",
		EnvStage + "=init", // stale: from an earlier stage
		EnvPrefix + "UID=0",
		EnvPrefix + "PIN0=net=/stale",
		EnvPrefix + "INIT=1",
		"B=_NSBOX_STAGE=x", // a value mentioning the prefix is kept
		"_NSBOX=not the prefix",
	}
	env := p.Environ("self")
	want := []string{"A=1", "B=_NSBOX_STAGE=x", "_NSBOX=not the prefix"}
	if !reflect.DeepEqual(env[:len(want)], want) {
		t.Errorf("Environ starts with %q, want the target environment %q first", env[:len(want)], want)
	}
	var stages int
	for _, e := range env[len(want):] {
		if !strings.HasPrefix(e, EnvPrefix) {
			t.Errorf("non-stage variable %q after the target environment", e)
		}
		if strings.HasPrefix(e, EnvStage+"=") {
			stages++
		}
	}
	if stages != 1 {
		t.Errorf("%d stage variables in %q, want 1", stages, env)
	}
	got, stage, err := Decode(env, []string{"unshare", "x"})
	if err != nil {
		t.Fatal(err)
	}
	if stage != "self" || got.Uid != -1 || got.Init || got.Pins != nil {
		t.Errorf("stale variables leaked: stage %q, uid %d, init %v, pins %v", stage, got.Uid, got.Init, got.Pins)
	}
	if !reflect.DeepEqual(got.Env, want) {
		t.Errorf("decoded Env = %q, want %q", got.Env, want)
	}
	// The input plan is not modified.
	if len(p.Env) != 7 {
		t.Errorf("Environ modified p.Env: %q", p.Env)
	}
}

func TestEnvironVariables(t *testing.T) {
	p := full()
	env := p.Environ("child")
	have := map[string]string{}
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			have[strings.TrimPrefix(k, EnvPrefix)] = v
		}
	}
	want := map[string]string{
		"STAGE":        "child",
		"NAME":         "unshare",
		"PDEATHSIG":    "9",
		"SYNC":         "5",
		"READY":        "6",
		"UIDMAP":       "0 1000",
		"GIDMAP":       "4294967294 4294967294",
		"SETGROUPS":    "deny",
		"TIMEOFFSETS":  "-86400 1099511627776",
		"PROPAGATION":  fmt.Sprint(unix.MS_SLAVE),
		"PIN0":         "net=/run/netns/a b=c",
		"PIN1":         "pid_for_children=/tmp/x=y=z",
		"PIN2":         "time_for_children=relative path",
		"NOTIFY":       "3,10,255",
		"PIDLINK":      "9 /run/a b/c.pid",
		"STATUS":       "7",
		"HOSTNAME":     "my host name",
		"ROOT":         "/srv/root with space=1",
		"WD":           "/work dir=2",
		"PROC":         "/proc",
		"BINFMT":       "/proc/sys/fs/binfmt_misc",
		"INTERP":       p.Interp,
		"GID":          "100",
		"UID":          "1000",
		"KEEPCAPS":     "1",
		"CLEARAMBIENT": "1",
		"INIT":         "1",
		"EXEC":         "/bin/sh",
		"UNSHARE":      fmt.Sprint(int64(p.Unshare)),
	}
	if !reflect.DeepEqual(have, want) {
		t.Errorf("stage variables\n got %q\nwant %q", have, want)
	}
	// A fresh plan emits only what the stage needs.
	min := NewPlan("unshare").Environ("self")
	wantMin := []string{EnvStage + "=self", EnvPrefix + "NAME=unshare", EnvPrefix + "EXEC="}
	if !reflect.DeepEqual(min, wantMin) {
		t.Errorf("NewPlan().Environ = %q, want %q", min, wantMin)
	}
}

func TestDecodeArgv(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		argv    []string
		path    string
		args    []string
	}{
		{"EXEC wins over argv", []string{EnvPrefix + "EXEC=/bin/true"}, []string{"unshare", "true", "x"},
			"/bin/true", []string{"true", "x"}},
		{"no EXEC: argv[1]", nil, []string{"unshare", "id", "-u"}, "id", []string{"id", "-u"}},
		{"empty EXEC: argv[1]", []string{EnvPrefix + "EXEC="}, []string{"unshare", "id"}, "id", []string{"id"}},
		{"no program", nil, []string{"unshare"}, "", nil},
		{"no argv at all", nil, nil, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _, err := Decode(tc.environ, tc.argv)
			if err != nil {
				t.Fatal(err)
			}
			if p.Path != tc.path || !reflect.DeepEqual(p.Argv, tc.args) {
				t.Errorf("Decode = path %q argv %q, want %q %q", p.Path, p.Argv, tc.path, tc.args)
			}
		})
	}
}

func TestDecodeDefaults(t *testing.T) {
	p, stage, err := Decode([]string{"A=1", EnvPrefix + "UNKNOWN=zz"}, []string{"unshare"})
	if err != nil {
		t.Fatal(err)
	}
	want := NewPlan("")
	want.Env = []string{"A=1"}
	if stage != "" || !reflect.DeepEqual(p, want) {
		t.Errorf("Decode = %+v, %q; want %+v, \"\"", p, stage, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		v   string
		key string
	}{
		{"SYNC=abc", "SYNC"},
		{"SYNC=", "SYNC"},
		{"READY=1x", "READY"},
		{"PDEATHSIG=nine", "PDEATHSIG"},
		{"UNSHARE=0x20000", "UNSHARE"},
		{"PROPAGATION=slave", "PROPAGATION"},
		{"GID=1.5", "GID"},
		{"UID= 1", "UID"},
		{"UID=99999999999999999999", "UID"},
		{"UIDMAP=1", "UIDMAP"},
		{"UIDMAP=", "UIDMAP"},
		{"GIDMAP=a b", "GIDMAP"},
		{"TIMEOFFSETS=5", "TIMEOFFSETS"},
		{"TIMEOFFSETS=x 1", "TIMEOFFSETS"},
		{"NOTIFY=3,x", "NOTIFY"},
		{"NOTIFY=", "NOTIFY"},
		{"NOTIFY=3,,4", "NOTIFY"},
	}
	for _, tc := range tests {
		t.Run(tc.v, func(t *testing.T) {
			env := []string{EnvStage + "=child", EnvPrefix + tc.v}
			p, _, err := Decode(env, []string{"unshare", "x"})
			if err == nil {
				t.Fatalf("Decode(%q) = %+v, want an error", env, p)
			}
			if p != nil {
				t.Errorf("Decode(%q) returned a plan with its error", env)
			}
			if want := "bad stage variable " + tc.key + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

func TestErrorAndMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		text string
		msg  string
	}{
		{"msg and errno", &Error{Code: 1, Msg: "unshare failed", Err: syscall.EPERM},
			"unshare failed: operation not permitted", "unshare failed: Operation not permitted"},
		{"errno only", &Error{Code: 1, Err: syscall.EINVAL}, "invalid argument", "Invalid argument"},
		{"msg only", &Error{Code: 1, Msg: "something"}, "something", "something"},
		{"status only", &Error{Code: 3}, "", ""},
		{"wrapped path error", &Error{Code: 1, Err: fmt.Errorf("write failed /proc/self/uid_map: %w", syscall.EPERM)},
			"write failed /proc/self/uid_map: operation not permitted",
			"write failed /proc/self/uid_map: Operation not permitted"},
		{"non-errno error", &Error{Code: 1, Msg: "a", Err: errors.New("b")}, "a: b", "a: b"},
		{"exec failure", &Error{Code: 127, Msg: "failed to execute /x", Err: syscall.ENOENT},
			"failed to execute /x: no such file or directory", "failed to execute /x: No such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.text {
				t.Errorf("Error() = %q, want %q", got, tc.text)
			}
			if got := errtext.Message(tc.err); got != tc.msg {
				t.Errorf("Message() = %q, want %q", got, tc.msg)
			}
		})
	}
	e := fail(&os.PathError{Op: "mount", Path: "/x", Err: syscall.ENOENT}, "mount %s failed", "/x")
	var ne *Error
	if !errors.As(e, &ne) || ne.Code != 1 || ne.Err != syscall.ENOENT || errtext.Message(e) != "mount /x failed: No such file or directory" {
		t.Errorf("fail() = %#v (%q)", e, errtext.Message(e))
	}
	if !errors.Is(e, syscall.ENOENT) {
		t.Error("fail() does not unwrap to its errno")
	}
}
