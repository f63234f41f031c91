package faultinject

import (
	"fmt"
	"os"
	"time"
)

// The system calls by which mkbridge and nsbox-bridge change something:
// netlink and nftables requests, the pin of --new, the lock, sysctls, the
// reaper of a CNI DEL.
const netCalls = "sendto,sendmsg,unshare,setns,mount,openat,unlinkat,flock,write,clone,clone3,execve"

// Failures of an undo step that mean nothing was left to undo.
var (
	noPort    = "no mkbridge interface has its peer in this network namespace"
	noBridge  = "no such bridge"
	noNetns   = "No such file or directory"
	deleteAll = []string{noPort}
)

// cases are every case, in the order they run: mkbridge's and
// nsbox-bridge's here, the others' in others_test.go.
func cases() []kcase {
	return append(mkbridgeCases(), otherCases()...)
}

func mkbridgeCases() []kcase {
	return []kcase{
		{
			// A new namespace and a new bridge: the undo is -d NAME
			// (which removes a namespace whose set-up never finished),
			// ip netns del for one that did, and --delete-bridge.
			name: "mkbridge --new", syscalls: netCalls,
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("mkbridge", "-b", e.name("br"), "--bridge-addr", e.subnet()+".1/24", "--new", e.name("ns"))}
			},
			undo: func(e *env) []cmdline {
				return []cmdline{
					{argv: e.nsbox("mkbridge", "-d", "--delete-bridge", e.name("ns")), ok: []string{noPort, noNetns}},
					{argv: []string{"ip", "netns", "del", e.name("ns")}, ok: []string{noNetns}},
					{argv: e.nsbox("mkbridge", "--delete-bridge", "-b", e.name("br")), ok: []string{noBridge}},
				}
			},
		},
		{
			// A container's namespace by PID, a new bridge with NAT (its
			// nftables table, forwarding).
			name: "mkbridge --nat PID", syscalls: netCalls,
			fixture: func(e *env) { e.container() },
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("mkbridge", "-b", e.name("br"), "--bridge-addr", e.subnet()+".1/24", "--nat", pidOf(e, 0))}
			},
			undo: func(e *env) []cmdline {
				return []cmdline{
					{argv: e.nsbox("mkbridge", "-d", "--delete-bridge", pidOf(e, 0)), ok: deleteAll},
					{argv: e.nsbox("mkbridge", "--delete-bridge", "-b", e.name("br")), ok: []string{noBridge}},
				}
			},
		},
		{
			// Several targets in one run: two containers and a named
			// namespace.
			name: "mkbridge several targets", syscalls: netCalls,
			fixture: func(e *env) {
				e.container()
				e.container()
				e.namedNetns(e.name("ns"))
			},
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("mkbridge", "-b", e.name("br"), "--bridge-addr", e.subnet()+".1/24", pidOf(e, 0), pidOf(e, 1), e.name("ns"))}
			},
			undo: func(e *env) []cmdline {
				return []cmdline{
					{argv: e.nsbox("mkbridge", "-d", "--delete-bridge", pidOf(e, 0), pidOf(e, 1), e.name("ns")), ok: deleteAll},
					{argv: e.nsbox("mkbridge", "--delete-bridge", "-b", e.name("br")), ok: []string{noBridge}},
				}
			},
		},
		{
			// The tear-down of a container's port; the bridge stays (it
			// is the fixture's).
			name: "mkbridge -d", syscalls: netCalls,
			fixture: func(e *env) {
				e.container()
				e.must(setupOn(e))
				e.must(cmdline{argv: e.nsbox("mkbridge", "-d", pidOf(e, 0))})
				e.t.Cleanup(func() { e.run(cmdline{argv: e.nsbox("mkbridge", "--delete-bridge", "-b", e.name("br"))}) })
			},
			prepare: func(e *env) { e.must(setupOn(e)) },
			command: func(e *env) cmdline { return cmdline{argv: e.nsbox("mkbridge", "-d", pidOf(e, 0))} },
			undo: func(e *env) []cmdline {
				return []cmdline{{argv: e.nsbox("mkbridge", "-d", pidOf(e, 0)), ok: deleteAll}}
			},
		},
		{
			// The tear-down of two ports and of their bridge.
			name: "mkbridge -d --delete-bridge", syscalls: netCalls,
			fixture: func(e *env) {
				e.container()
				e.container()
			},
			prepare: func(e *env) {
				e.must(setupOn(e))
				e.must(cmdline{argv: e.nsbox("mkbridge", "-b", e.name("br"), pidOf(e, 1))})
			},
			command: func(e *env) cmdline {
				return cmdline{argv: e.nsbox("mkbridge", "-d", "--delete-bridge", pidOf(e, 0), pidOf(e, 1))}
			},
			undo: func(e *env) []cmdline {
				return []cmdline{
					{argv: e.nsbox("mkbridge", "-d", "--delete-bridge", pidOf(e, 0), pidOf(e, 1)), ok: deleteAll},
					{argv: e.nsbox("mkbridge", "--delete-bridge", "-b", e.name("br")), ok: []string{noBridge}},
				}
			},
		},
		cniDel(),
	}
}

// setupOn is the set-up of the first container on the case's bridge.
func setupOn(e *env) cmdline {
	return cmdline{argv: e.nsbox("mkbridge", "-b", e.name("br"), "--bridge-addr", e.subnet()+".1/24", pidOf(e, 0))}
}

func pidOf(e *env, i int) string { return fmt.Sprint(e.ctrs[i].Pid()) }

// cniDel: nsbox-bridge's DEL of an attachment, which leaves the deletion
// of the host end to a reaper it does not wait for. A reaper killed leaves
// the host end marked released, which the network's GC removes: the undo
// is DEL again and GC. The bridge is the fixture's (CNI never removes
// one).
func cniDel() kcase {
	conf := func(e *env, extra string) string {
		return fmt.Sprintf(`{"cniVersion":"1.1.0","name":"nsbt-fi-%d","type":"nsbox-bridge","bridge":"%s",`+
			`"isGateway":true,"ipam":{"type":"nsbox","subnet":"%s.0/24"}%s}`, os.Getpid(), e.name("br"), e.subnet(), extra)
	}
	cni := func(e *env, command, extra string) cmdline {
		return cmdline{argv: e.nsbox("nsbox-bridge"), stdin: conf(e, extra), env: []string{
			"CNI_COMMAND=" + command, "CNI_CONTAINERID=nsbt-c1", "CNI_NETNS=/run/netns/" + e.name("ns"),
			"CNI_IFNAME=eth0", "CNI_PATH=/nonexistent"}}
	}
	return kcase{
		name: "nsbox-bridge DEL", syscalls: netCalls,
		fixture: func(e *env) {
			e.namedNetns(e.name("ns"))
			e.must(cni(e, "ADD", ""))
			e.must(cni(e, "DEL", ""))
			e.t.Cleanup(func() { e.run(cmdline{argv: []string{"ip", "link", "del", e.name("br")}}) })
			e.cg.WaitEmpty(3 * time.Second) // the reaper
		},
		prepare: func(e *env) { e.must(cni(e, "ADD", "")) },
		command: func(e *env) cmdline { return cni(e, "DEL", "") },
		undo: func(e *env) []cmdline {
			return []cmdline{cni(e, "DEL", ""), cni(e, "GC", `,"cni.dev/valid-attachments":[]`)}
		},
	}
}
