package pin

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/pin"
)

// planOf parses args as the applet does, without acting on them: the
// Plan, or the message the applet would end with (status 1).
func planOf(args ...string) (*Plan, string) {
	var out bytes.Buffer
	p, _, err := parse(&applet.Env{Name: "pin", Args: args, Stdout: &out, Stderr: &out})
	msg, _ := applet.Status("pin", err)
	return p, msg + out.String()
}

// every is the Targets of --all: each type, user first, skipped where the
// kernel lacks it.
func every() []pin.Target {
	var ts []pin.Target
	for _, t := range ns.JoinOrder {
		ts = append(ts, pin.Target{Type: t, Optional: true})
	}
	return ts
}

func TestPlan(t *testing.T) {
	tests := []struct {
		args []string
		want *Plan
	}{
		// A <dir> alone, or with --all: every namespace into it.
		{[]string{"-t", "5", "d"}, &Plan{Pin: &pin.Batch{PID: 5, Dir: "d", Targets: every()}}},
		{[]string{"-a", "--target=5", "--for-children", "d"}, &Plan{Pin: &pin.Batch{PID: 5, Dir: "d", ForChildren: true, Targets: every()}}},
		{[]string{"--hold", "-t5", "d"}, &Plan{Pin: &pin.Batch{PID: 5, Dir: "d", Hold: true, Targets: every()}}},
		// Namespace options: onto their <file>, or into the <dir>; user
		// first, whatever the order of the options.
		{[]string{"-t", "5", "-n/run/x", "--uts=/u"}, &Plan{Pin: &pin.Batch{PID: 5, Targets: []pin.Target{
			{Type: ns.Uts, Path: "/u"}, {Type: ns.Net, Path: "/run/x"}}}}},
		{[]string{"-t", "5", "-m", "-U", "-n/x", "d"}, &Plan{Pin: &pin.Batch{PID: 5, Dir: "d", Targets: []pin.Target{
			{Type: ns.User}, {Type: ns.Net, Path: "/x"}, {Type: ns.Mnt}}}}},
		// --all with namespace options: the rest are optional.
		{[]string{"-t", "5", "-a", "--net=/x", "d"}, &Plan{Pin: &pin.Batch{PID: 5, Dir: "d", Targets: []pin.Target{
			{Type: ns.User, Optional: true}, {Type: ns.Cgroup, Optional: true}, {Type: ns.Ipc, Optional: true},
			{Type: ns.Uts, Optional: true}, {Type: ns.Net, Path: "/x"}, {Type: ns.Pid, Optional: true},
			{Type: ns.Mnt, Optional: true}, {Type: ns.Time, Optional: true}}}}},
		{[]string{"-t", "5", "--netns", "box"}, &Plan{Pin: &pin.Batch{PID: 5, Netns: "box"}}},
		{[]string{"-t", "5", "--netns=box", "-u", "d"}, &Plan{Pin: &pin.Batch{PID: 5, Netns: "box", Dir: "d", Targets: []pin.Target{{Type: ns.Uts}}}}},
		{[]string{"--json", "-t", "5", "d"}, &Plan{Pin: &pin.Batch{PID: 5, Dir: "d", Targets: every()}, JSON: true}},
		{[]string{"-d", "a", "b"}, &Plan{Release: &Release{Paths: []string{"a", "b"}}}},
		{[]string{"--delete", "--netns", "box"}, &Plan{Release: &Release{Netns: "box"}}},
		{[]string{"-d", "--netns", "box", "--", "-a"}, &Plan{Release: &Release{Paths: []string{"-a"}, Netns: "box"}}},
	}
	for _, tc := range tests {
		p, msg := planOf(tc.args...)
		if msg != "" || !reflect.DeepEqual(p, tc.want) {
			t.Errorf("pin %q: %q\n got %+v\nwant %+v", tc.args, msg, describe(p), describe(tc.want))
		}
	}
}

// describe spells out a Plan for a failure message.
func describe(p *Plan) any {
	switch {
	case p == nil:
		return nil
	case p.Pin != nil:
		return *p.Pin
	case p.Release != nil:
		return *p.Release
	}
	return *p
}

// TestPlanHold: what --hold refuses, on top of TestCommandLine's cases.
func TestPlanHold(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--hold", "-t", "5", "-n"}, "pin: --hold needs a <dir> and takes no --netns\n"},
		{[]string{"--hold", "-t", "5", "--netns", "x", "d"}, "pin: --hold needs a <dir> and takes no --netns\n"},
		{[]string{"--hold", "-t", "5", "-u", "--net=/x", "d"}, "pin: --hold pins into the <dir> only: --net takes no <file>\n"},
		{[]string{"-d", "--hold", "d"}, "pin: --delete takes no --target, --all, --for-children, --hold, --json or namespace options\n"},
		{[]string{"-d", "--json", "d"}, "pin: --delete takes no --target, --all, --for-children, --hold, --json or namespace options\n"},
		{[]string{"-t", "5", "-d", "d"}, "pin: --delete takes no --target, --all, --for-children, --hold, --json or namespace options\n"},
	} {
		if p, msg := planOf(tc.args...); p != nil || msg != tc.msg {
			t.Errorf("pin %q: %q; want %q", tc.args, msg, tc.msg)
		}
	}
}
