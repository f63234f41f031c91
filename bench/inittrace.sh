#!/usr/bin/env bash
# bench/inittrace.sh - Go package initialisation time of one nsbox start.
#
#   bench/inittrace.sh [BINARY [APPLET ARGS...]]
#
# Runs GODEBUG=inittrace=1 BINARY APPLET ARGS (default: out/nsbox unshare -u
# true, which needs root) INITTRACE_RUNS times (20) and prints the median of
# the total init time of a run: the sum of the "N ms clock" values of every
# "init PKG @T ms, N ms clock, B bytes, A allocs" line the Go runtime writes to
# stderr. When one run starts the Go runtime more than once (a re-exec of
# /proc/self/exe), every start is counted, and the starts are reported; a
# run that never starts the Go runtime (the C fast path) counts 0 ms and 0
# starts. Set _NSBOX_NOFAST=1 to time the Go applet instead.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${INITTRACE_RUNS:-20}
BIN=${1:-$REPO/out/nsbox}
[ $# -gt 0 ] && shift
if [ $# -gt 0 ]; then ARGS=("$@"); else ARGS=(unshare -u true); fi

die() { printf 'inittrace: %s\n' "$*" >&2; exit 1; }
[ -x "$BIN" ] || die "$BIN: not an executable file (make out/nsbox)"
case $N in '' | *[!0-9]* | 0) die "INITTRACE_RUNS must be a positive number" ;; esac

TMP=$(mktemp -d /tmp/nsbox-inittrace.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

for ((i = 1; i <= N; i++)); do
	if ! GODEBUG="${GODEBUG:+$GODEBUG,}inittrace=1" "$BIN" "${ARGS[@]}" </dev/null >/dev/null 2>"$TMP/run.$i"; then
		printf 'inittrace: %s %s failed (run %d):\n' "$BIN" "${ARGS[*]}" "$i" >&2
		grep -v '^init ' "$TMP/run.$i" | head -n 5 >&2
		exit 1
	fi
done

# per run: total clock, packages, runtime starts, end of the last init of the
# first start (its @T + clock); per package: clock of every run
for ((i = 1; i <= N; i++)); do
	awk -v run="$i" -v pkgs="$TMP/pkgs" '
		/^init .* @[0-9.]+ ms, [0-9.]+ ms clock/ {
			at = $3; sub(/^@/, "", at); clock = $5
			if (n == 0 || at + 0 < last + 0) starts++
			last = at; n++; total += clock
			if (starts == 1 && at + clock > end) end = at + clock
			print $2, clock >> pkgs
		}
		END { printf "%.6f %d %d %.6f\n", total, n, starts, end }
	' "$TMP/run.$i"
done >"$TMP/runs"

awk -v n="$N" -v bin="$BIN" -v cmd="${ARGS[*]}" -v pkgs="$TMP/pkgs" '
	function sort(a, k,   x, y, v) { for (x = 2; x <= k; x++) { v = a[x]; for (y = x - 1; y >= 1 && a[y] > v; y--) a[y + 1] = a[y]; a[y + 1] = v } }
	function med(a, k) { sort(a, k); return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
	{ r++; tot[r] = $1; np[r] = $2; st[r] = $3; en[r] = $4 }
	END {
		printf "# inittrace: %s %s, %d runs\n", bin, cmd, n
		mt = med(tot, r); lo = tot[1]; hi = tot[r]
		printf "%-44s %8.3f ms  (%.3f-%.3f)\n", "init total (sum of package clock), median", mt, lo, hi
		printf "%-44s %8.3f ms\n", "last init done (@ + clock), median", med(en, r)
		printf "%-44s %8d\n", "packages initialised per run, median", med(np, r)
		printf "%-44s %8d\n", "Go runtime starts per run, median", med(st, r)
		while ((getline line < pkgs) > 0) { split(line, f, " "); c[f[1]] += f[2] }
		k = 0
		for (p in c) { k++; name[k] = p; val[k] = c[p] / r }
		for (x = 2; x <= k; x++) { v = val[x]; m = name[x]; for (y = x - 1; y >= 1 && val[y] < v; y--) { val[y + 1] = val[y]; name[y + 1] = name[y] } val[y + 1] = v; name[y + 1] = m }
		printf "slowest packages (mean clock per run):\n"
		for (x = 1; x <= k && x <= 5; x++) printf "  %-42s %8.3f ms\n", name[x], val[x]
	}
' "$TMP/runs"
