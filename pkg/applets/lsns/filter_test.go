package lsns_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nsbox/nsbox/internal/testutil"
)

// TestFilterRegexLinear is the case: a process whose command is
// 40 a's (and its argument), and the expressions a backtracking matcher
// takes 2^40 steps on. Each run must end in seconds (timeout(1) stops it at 60), and the
// forms glibc has and the old matcher lacked must work.
func TestFilterRegexLinear(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	as := strings.Repeat("a", 40)
	// in a UTS namespace of its own: the row's process is this one
	p := startTarget(t, testutil.Opts{}, "unshare", "-u", "-n", "bash", "-c", "exec -a "+as+" sleep 120")
	p.WaitExec(t, "sleep", 5*time.Second)
	pid := strconv.Itoa(p.Pid())
	for _, nb := range nsboxes(t) {
		for _, tc := range []struct {
			expr  string
			match bool
		}{
			{`COMMAND =~ "^(a+)+$"`, false},
			{`COMMAND =~ "(a*)*b"`, false},
			{`COMMAND =~ "^(a|aa)+$"`, false},
			{`COMMAND =~ "^(a+)+ 120$"`, true},
			{`COMMAND =~ "^a{,40} 120$"`, true},
			{`COMMAND =~ "^a{,39} 1"`, false}, // (a string's blanks at its ends are trimmed)
			{`COMMAND =~ "^\w{40}\s[[:digit:]]+$"`, true},
			{`COMMAND =~ "\<120\>"`, true},
			{`COMMAND =~ "\Ba\b"`, true},
			{`COMMAND =~ "[[.a.]]{40}"`, true},
			{`COMMAND !~ "^(a+)+$"`, true},
		} {
			start := time.Now()
			r := run(t, nil, append([]string{"timeout", "60"}, nb.cmd("-p", pid, "-t", "uts", "-n", "-o", "PID", "-Q", tc.expr)...))
			d := time.Since(start)
			want := ""
			if tc.match {
				want = pid + "\n"
			}
			if r.code != 0 || r.err != "" || strings.TrimLeft(r.out, " ") != want {
				t.Errorf("%s lsns -Q %s: exit %d, %q%s, want %q", nb.name, tc.expr, r.code, r.out, r.err, want)
			}
			if d > 10*time.Second {
				t.Errorf("%s lsns -Q %s: %v", nb.name, tc.expr, d)
			}
		}
	}
}
