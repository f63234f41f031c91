// Package unshare is the unshare applet: run a program in new namespaces,
// with util-linux unshare's options, order of operations, messages and exit
// codes, plus --hostname, --init, --pid-file and --ready-fd for composing
// containers.
package unshare

import (
	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/nsexec"
	"github.com/nsbox/nsbox/pkg/reexec"
)

func init() {
	applet.Register(applet.Applet{
		Name:    "unshare",
		Summary: "run a program with some namespaces unshared from the parent",
		Usage:   usage,
		Run:     run,
	})
	reexec.Register("child", nsexec.ChildStage)
	reexec.Register("init", nsexec.InitStage)
	applet.Features = append(applet.Features, nsexec.Feature)
}

const usage = `
Usage:
 unshare [options] [<program> [<argument>...]]

Run a program with some namespaces unshared from the parent.

Options:
 -m, --mount[=<file>]      unshare mounts namespace
 -u, --uts[=<file>]        unshare UTS namespace (hostname etc)
 -i, --ipc[=<file>]        unshare System V IPC namespace
 -n, --net[=<file>]        unshare network namespace
 -p, --pid[=<file>]        unshare pid namespace
 -U, --user[=<file>]       unshare user namespace
 -C, --cgroup[=<file>]     unshare cgroup namespace
 -T, --time[=<file>]       unshare time namespace

 -f, --fork                fork before launching <program>
 --map-user=<uid>|<name>   map current user to uid (implies --user)
 --map-group=<gid>|<name>  map current group to gid (implies --user)
 -r, --map-root-user       map current user to root (implies --user)
 -c, --map-current-user    map current user to itself (implies --user)
 --map-auto                map users and groups automatically (implies --user)
 --map-users=<inneruid>:<outeruid>:<count>
                           map count users from outeruid to inneruid (implies --user;
                             also auto, subids, all)
 --map-groups=<innergid>:<outergid>:<count>
                           map count groups from outergid to innergid (implies --user)
 --map-subids              map users and groups using their subordinate ids (implies --user)
 --owner=<uid>:<gid>       the user namespace belongs to this user and group
                             (as root; implies --user)

 --kill-child[=<signame>]  when dying, kill the forked child (implies --fork)
                             defaults to SIGKILL
 --forward-signals         forward SIGTERM and SIGINT to the child (implies --fork)
 --mount-proc[=<dir>]      mount proc filesystem first (implies --mount)
 --mount-binfmt[=<dir>]    mount binfmt filesystem first (implies --user and --mount)
 -l, --load-interp=<file>  load binfmt definition in the namespace (implies --mount-binfmt)
 --propagation slave|shared|private|unchanged
                           modify mount propagation in mount namespace
 --setgroups allow|deny    control the setgroups syscall in user namespaces
 --keep-caps               retain capabilities granted in user namespaces

 -R, --root=<dir>          run the command with root directory set to <dir>
 -w, --wd=<dir>            change working directory to <dir>
 -S, --setuid <uid>        set uid in entered namespace
 -G, --setgid <gid>        set gid in entered namespace
 --monotonic <offset>      set clock monotonic offset (seconds) in time namespaces
 --boottime <offset>       set clock boottime offset (seconds) in time namespaces
 --clear-env               clear the environment
 --whitelist-env <list>    keep only the comma-separated variables of <list>

nsbox extras:
 --hostname <name>         set the host name in the new UTS namespace (implies --uts)
 --init                    run <program> under a minimal init that reaps zombies
                             and forwards signals (with --fork, the init is PID 1)
 --pid-file <file>         write the PID of the started process to <file> once
                             every namespace, map and pin exists
 --ready-fd <fd>           write that PID to file descriptor <fd>, then close it
 --json-status-fd <fd>     write JSON to <fd>: that PID and the namespaces' inodes,
                             then with --fork the exit status (as bubblewrap)

 -h, --help                display this help
 -V, --version             display version

For more details see unshare(1) and docs/unshare.md.
`

// run reads the options, decides the plan, then carries it out: nothing
// is opened, unshared or forked until every option has been checked.
func run(e *applet.Env) error {
	o, done, err := parseOptions(e)
	if err != nil || done {
		return err
	}
	p, err := o.plan(self())
	if err != nil {
		return err
	}
	return p.execute()
}
