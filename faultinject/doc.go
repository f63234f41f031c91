// Package faultinject kills nsbox's multi-step commands with SIGKILL at
// random points, over and over, and checks what each kill leaves: the
// principle of issue 18, that a command killed at any instant leaves
// nothing that the next run of the same command, or its documented undo,
// cannot recognise and finish or remove, and that no helper process
// outlives the command that made it.
//
// It is a test only (faultinject_test.go and the cases beside it): it runs
// the built binary (NSBOX_BIN) as root, on bridges, namespaces and pins
// of its own with the test prefix (nsbt), under `make test`. For each
// case (a command, how to undo it), each round:
//
//  1. the command is started in a cgroup of the test's own, and killed
//     with SIGKILL: after a random delay within its usual run time, or at
//     the N-th call of one of the system calls it makes that change
//     something (strace -f --inject=SYSCALL:signal=SIGKILL:when=N), the
//     call and N drawn from a trace of a normal run;
//  2. the documented undo is run (mkbridge -d, ip netns del, pin -d...),
//     each step's failure accepted only when it says there was nothing
//     left to undo;
//  3. the host is checked against the state before the round: no process
//     left in the cgroup (however it detached), and the same mounts,
//     links, /run/netns entries, nftables tables, forwarding sysctls,
//     links inside the test's containers and entries of the pin
//     directories;
//  4. the same command runs again, not killed, and must succeed, and its
//     undo must leave the host as it was.
//
// The kill points come from a seed: NSBOX_FAULT_SEED=N reproduces a run
// (a failure names the seed, the case, the round and the kill point), and
// each case draws from its own stream, so that -run of one case kills it
// at the same points as the whole test does. What a point hits still
// varies a little with the machine's speed and its threads' scheduling.
// NSBOX_FAULT_ROUNDS sets the number of rounds per case; NSBOX_FAULT_ALL=1
// runs the cases skipped for a fix this tree does not have yet.
package faultinject
