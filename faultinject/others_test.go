package faultinject

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// The system calls by which pin and unshare change something: mounts,
// namespaces, files and directories made or removed, processes started,
// maps and pid files written.
const procCalls = "mount,umount2,unshare,setns,openat,mkdir,mkdirat,unlinkat,rmdir,symlinkat,linkat,renameat2,write,clone,clone3,execve,kill,prctl"

// Failures of pin -d, and of umount, that mean nothing was left to undo.
var (
	noPin      = []string{"No such file or directory"}
	notMounted = []string{"not mounted"}
)

func otherCases() []kcase {
	return []kcase{
		{
			// A directory handle of every namespace of a container (a
			// mount namespace among them: a private self-bind, a marker).
			name: "pin DIR", syscalls: procCalls,
			fixture: func(e *env) { e.fullContainer() },
			command: func(e *env) cmdline { return cmdline{argv: e.nsbox("pin", "-t", pidOf(e, 0), e.path("box"))} },
			undo:    func(e *env) []cmdline { return []cmdline{{argv: e.nsbox("pin", "-d", e.path("box")), ok: noPin}} },
			dirs:    func(e *env) []string { return []string{e.tmp} },
		},
		{
			// Pins of two namespaces onto files.
			name: "pin FILE", syscalls: procCalls,
			fixture: func(e *env) { e.fullContainer() },
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("pin", "-t", pidOf(e, 0), "--net="+e.path("net"), "--uts="+e.path("uts"))}
			},
			undo: func(e *env) []cmdline {
				return []cmdline{
					{argv: e.nsbox("pin", "-d", e.path("net")), ok: noPin},
					{argv: e.nsbox("pin", "-d", e.path("uts")), ok: noPin},
				}
			},
			dirs: func(e *env) []string { return []string{e.tmp} },
		},
		{
			// A held handle: a holder process keeps the namespaces; pin -d
			// stops it.
			name: "pin --hold", syscalls: procCalls,
			fixture: func(e *env) { e.fullContainer() },
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("pin", "--hold", "-t", pidOf(e, 0), e.path("box"))}
			},
			undo: func(e *env) []cmdline { return []cmdline{{argv: e.nsbox("pin", "-d", e.path("box")), ok: noPin}} },
			dirs: func(e *env) []string { return []string{e.tmp} },
		},
		{
			// A named network namespace, as ip netns add makes it.
			name: "pin --netns", syscalls: procCalls,
			fixture: func(e *env) { e.fullContainer() },
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("pin", "-t", pidOf(e, 0), "--netns", e.name("ns"))}
			},
			undo: func(e *env) []cmdline {
				return []cmdline{{argv: e.nsbox("pin", "-d", "--netns", e.name("ns")), ok: noPin}}
			},
		},
		{
			// The release of a directory handle (a self-bind, pins, the
			// marker, the directory).
			name: "pin -d", syscalls: procCalls,
			fixture: func(e *env) { e.fullContainer() },
			prepare: func(e *env) { e.must(cmdline{argv: e.nsbox("pin", "-t", pidOf(e, 0), e.path("box"))}) },
			command: func(e *env) cmdline { return cmdline{argv: e.nsbox("pin", "-d", e.path("box"))} },
			undo:    func(e *env) []cmdline { return []cmdline{{argv: e.nsbox("pin", "-d", e.path("box")), ok: noPin}} },
			dirs:    func(e *env) []string { return []string{e.tmp} },
		},
		{
			// unshare pinning the namespaces it makes onto files that
			// exist (as util-linux, it binds onto them; the undo is
			// umount), without --fork: a helper process binds them.
			name: "unshare with pins", syscalls: procCalls,
			fixture: func(e *env) { e.files("net", "uts", "ipc") },
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("unshare", "--net="+e.path("net"), "--uts="+e.path("uts"), "--ipc="+e.path("ipc"), "true")}
			},
			undo: func(e *env) []cmdline {
				return []cmdline{{argv: []string{"umount", e.path("net"), e.path("uts"), e.path("ipc")}, ok: notMounted}}
			},
			dirs: func(e *env) []string { return []string{e.tmp} },
		},
		{
			// unshare --fork with a pinned user namespace and its map,
			// and a pid namespace pinned once the child exists.
			name: "unshare --fork with pins", syscalls: procCalls,
			fixture: func(e *env) { e.files("user", "pid") },
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("unshare", "--fork", "--user="+e.path("user"), "--map-root-user", "--pid="+e.path("pid"), "--mount-proc", "true")}
			},
			undo: func(e *env) []cmdline {
				return []cmdline{{argv: []string{"umount", e.path("user"), e.path("pid")}, ok: notMounted}}
			},
			dirs: func(e *env) []string { return []string{e.tmp} },
		},
		{
			// --pid-file is written whole or not at all: a supervisor
			// reads it as a PID. The undo is the caller's rm.
			name: "unshare --pid-file", syscalls: procCalls,
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("unshare", "--fork", "--net", "--pid-file", e.path("pid"), "true")}
			},
			killed: func(e *env) string { return wholePidFile(e.path("pid")) },
			undo:   func(e *env) []cmdline { return []cmdline{{argv: []string{"rm", "-f", e.path("pid")}}} },
			dirs:   func(e *env) []string { return []string{e.tmp} },
		},
		{
			// The same without --fork, in a user namespace: the C
			// constructor's stage writes the file, after a new mount
			// namespace (the name is linked through the directory
			// opened before it).
			name: "unshare -rm --pid-file", syscalls: procCalls,
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("unshare", "-rmn", "--pid-file", e.path("pid"), "true")}
			},
			killed: func(e *env) string { return wholePidFile(e.path("pid")) },
			undo:   func(e *env) []cmdline { return []cmdline{{argv: []string{"rm", "-f", e.path("pid")}}} },
			dirs:   func(e *env) []string { return []string{e.tmp} },
		},
		{
			// An init as PID 1 of a new PID namespace, and the program
			// under it: nothing outlives unshare.
			name: "unshare --init", syscalls: procCalls,
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("unshare", "--fork", "--pid", "--mount-proc", "--init", "sh", "-c", "sleep 0.01 & wait")}
			},
			undo: func(e *env) []cmdline { return nil },
		},
		{
			// Range maps written by unshare's helper (no --fork).
			name: "unshare range maps", syscalls: procCalls,
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("unshare", "--map-users=0:100000:65536", "--map-groups=0:100000:65536", "true")}
			},
			undo: func(e *env) []cmdline { return nil },
		},
	}
}

// path is a file of the case's own directory.
func (e *env) path(name string) string { return filepath.Join(e.tmp, name) }

// files makes empty files in the case's directory.
func (e *env) files(names ...string) {
	for _, n := range names {
		if err := os.WriteFile(e.path(n), nil, 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
}

// fullContainer starts a container with namespaces of its own of the
// types pin takes from a process as root (mount, UTS, IPC, network,
// cgroup), and returns its PID.
func (e *env) fullContainer() string { return e.startContainer("-m", "-u", "-i", "-n", "-C") }

var pidLine = regexp.MustCompile(`^[1-9][0-9]*\n$`)

// wholePidFile says what is wrong with a pid file a killed unshare left:
// it may be missing, or hold a whole PID line, nothing else.
func wholePidFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || pidLine.Match(b) {
		return ""
	}
	return fmt.Sprintf("%s holds %q, not a PID line", path, b)
}
