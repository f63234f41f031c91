# bench/lock.sh - sourced by the bench scripts: take the host-wide flock
# that the leak-checked tests take (internal/testutil), unless the caller
# (bench/run.sh) holds it already. The benchmarks make links, pins and
# processes by the hundred: neither the tests nor the benchmarks may see
# the other's as a leak, or time the other's work.
if [ -z "${NSBOX_BENCH_LOCKED:-}" ]; then
	exec 9>>/tmp/nsbox-test.lock
	flock -n 9 || {
		printf '%s: waiting for the tests that hold /tmp/nsbox-test.lock\n' "$(basename "$0")" >&2
		flock 9
	}
	export NSBOX_BENCH_LOCKED=1
fi
