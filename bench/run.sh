#!/usr/bin/env bash
# bench/run.sh - nsbox side by side with util-linux, in one run (make bench).
#
#   bench/run.sh [EXTRA-SPEC...]
#
# Calls the shared benchmark kit (../shared/bench beside the repository, or
# NSB_KIT) on out/nsbox (or NSBOX):
#   start.sh util-linux nsbox=NSBOX [EXTRA-SPEC...]        start latency
#   start.sh --mem util-linux nsbox=NSBOX [EXTRA-SPEC...]  peak RSS
#   sizes.sh nsbox=NSBOX                                    bytes on disk
#   bench/inittrace.sh NSBOX                                Go init time of unshare -u
#   pin.sh -c 'NSBOX pin -t PID --net=FILE' util-linux nsbox=NSBOX
#                                                           pin and unpin a netns
#   bench/pinnetns.sh NSBOX                                 nsbox pin + pin -d beside
#                                                           ip netns add + del
#   lsns.sh util-linux nsbox=NSBOX                          lsns and lsns -J with 0 and
#                                                           3000 extra processes
#   bench/mkbridge.sh NSBOX                                 container networks: the kit's
#                                                           net.sh (ip recipes beside
#                                                           mkbridge --new), then 50 and
#                                                           500 containers on one bridge,
#                                                           1 and 50 targets per process
#   bench/usernet.sh NSBOX                                  a rootless container's port
#                                                           through the set-user-ID mkbridge
#                                                           beside root's (target <= 1.3x)
#   bench/cni.sh NSBOX out/cnitools                        nsbox-bridge (CNI) beside the
#                                                           reference bridge + host-local;
#                                                           500 ADDs then one GC
# then prints, per workload, nsbox's ratio to util-linux, and pin's to
# iproute2. EXTRA-SPEC is any kit spec, e.g. purego=out/nsbox-purego. Run as
# root.
#
# Knobs: ROUNDS (10) x RUNS (10) timed runs per command and WARMUP (2), for
# start.sh; MEMRUNS (7) for --mem; INITTRACE_RUNS (20); PIN_ROUNDS (5) x
# PIN_RUNS (3), PIN_WARMUP (1) and PIN_K (5 cycles per timed loop) for the
# two pin parts; LSNS_ROUNDS (5) x LSNS_RUNS (3), LSNS_WARMUP (1) and
# LSNS_LEVELS (LEVELS, else "0 3000") for lsns; NET_N (50), NET_ROUNDS (5),
# SCALE_NS ("50 500"), BATCH (50), BATCH_NS ("50 500"), NEW_BATCH (1),
# SCALE_ROUNDS (3) for mkbridge (NET_N=0, SCALE_NS="", BATCH_NS="" or
# NEW_BATCH=0 skip a part); every other knob of the kit
# (lib.sh) passes through. Results
# are kept in BENCH_OUT (default out/bench/DATE-TIME). The defaults take 7 to
# 11 minutes on 2 cores (lsns's part about 2, mkbridge's about 5); ROUNDS=20 (the kit's default) or 40 narrows the
# ratios, at 2x or 4x the time.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KIT=${NSB_KIT:-$REPO/../shared/bench}
NSBOX=${NSBOX:-$REPO/out/nsbox}
export ROUNDS=${ROUNDS:-10} RUNS=${RUNS:-10} MEMRUNS=${MEMRUNS:-7}

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

for f in start.sh sizes.sh lib.sh pin.sh lsns.sh net.sh; do
	[ -f "$KIT/$f" ] || die "benchmark kit not found: no $KIT/$f (it lives in shared/bench beside the repository; set NSB_KIT=DIR to use another copy)"
done
KIT=$(cd "$KIT" && pwd)
[ "$(id -u)" = 0 ] || die "run as root (the kit switches to an unprivileged user by itself)"
. "$REPO/bench/lock.sh"
[ -x "$NSBOX" ] || die "$NSBOX: not an executable file (make out/nsbox)"
NSBOX=$(cd "$(dirname "$NSBOX")" && pwd)/$(basename "$NSBOX")
case $NSBOX in *' '*) die "$NSBOX: the kit does not support paths with spaces" ;; esac

# The reference must be util-linux itself: after "make install" the applet
# links in /usr/local/bin come first on PATH and would be timed as util-linux.
is_util_linux() { "$1" --version 2>/dev/null | grep -q 'util-linux'; }
if ! is_util_linux unshare || ! is_util_linux nsenter || ! is_util_linux lsns; then
	export PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH
	is_util_linux unshare && is_util_linux nsenter && is_util_linux lsns ||
		die "util-linux unshare, nsenter and lsns not found on PATH (apt-get install util-linux)"
	printf 'bench: note: PATH starts with /usr/bin so that util-linux is the reference\n' >&2
fi

OUT=${BENCH_OUT:-$REPO/out/bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
# scratch: one directory per part, under NSB_TMP when set. Not one for all:
# start.sh reads NSRAW_KIND, which build_nsraw sets only when it builds nsraw,
# so a second start.sh in the same NSB_TMP dies (unbound variable).
TMPBASE=${NSB_TMP:-}
if [ -z "$TMPBASE" ]; then
	TMPBASE=$(mktemp -d /tmp/nsbench.XXXXXX)
	[ "${KEEP_TMP:-0}" = 1 ] || trap 'rm -rf "$TMPBASE"' EXIT
fi
mkdir -p "$TMPBASE" && chmod 755 "$TMPBASE"
trap 'exit 130' INT TERM # the kit exits 130 on ^C; stop here too, not go on
SPECS=(util-linux "nsbox=$NSBOX" "$@")
START=$(date +%s)
failed=()

section() { printf '\n## %s\n' "$*"; }
# piece NAME CMD...: run one part, keep its stdout in $OUT/NAME.txt, go on
# when it fails (the summary says which parts failed)
piece() {
	local name=$1 rc=0
	shift
	NSB_TMP=$TMPBASE/$name "$@" | tee "$OUT/$name.txt" || rc=$?
	[ "$rc" = 0 ] || { failed+=("$name (exit $rc)"); printf 'bench: %s exited %d\n' "$name" "$rc" >&2; }
}

printf '# nsbox bench: %s (%s) against %s\n' "$NSBOX" "$("$NSBOX" --version 2>/dev/null | head -n 1)" "$(unshare --version)"
printf '# kit %s; ROUNDS=%s RUNS=%s WARMUP=%s MEMRUNS=%s; results in %s\n' \
	"$KIT" "$ROUNDS" "$RUNS" "${WARMUP:-2}" "$MEMRUNS" "$OUT"

section "start latency (x ref: median of per-round ratios to util-linux)"
piece start "$KIT/start.sh" "${SPECS[@]}"
section "peak RSS (KiB)"
piece mem "$KIT/start.sh" --mem "${SPECS[@]}"
section "sizes"
size_args=("nsbox=$NSBOX")
for s in "$@"; do
	b=${s#*=}
	[ -f "$b" ] && size_args+=("$s")
done
piece sizes "$KIT/sizes.sh" "${size_args[@]}"
section "Go init time"
piece inittrace "$REPO/bench/inittrace.sh" "$NSBOX" unshare -u true
piece inittrace-go env _NSBOX_NOFAST=1 "$REPO/bench/inittrace.sh" "$NSBOX" unshare -u true
# pin: fewer rounds and runs (each timed command is a loop of PIN_K cycles)
PIN_ENV=(env ROUNDS="${PIN_ROUNDS:-5}" RUNS="${PIN_RUNS:-3}" WARMUP="${PIN_WARMUP:-1}" PIN_K="${PIN_K:-5}")
section "pin and unpin a network namespace (per cycle)"
piece pin "${PIN_ENV[@]}" "$KIT/pin.sh" -k "${PIN_K:-5}" -c "$NSBOX pin -t PID --net=FILE" util-linux "nsbox=$NSBOX"
section "pin + unpin: nsbox pin beside iproute2 (per cycle)"
piece pinnetns "${PIN_ENV[@]}" "$REPO/bench/pinnetns.sh" "$NSBOX"
# lsns: 0 and 3000 extra sleeping processes in 200 namespaces; fewer rounds
# and runs than the kit's 6 x 5 (util-linux lsns takes most of a second a run
# at 3000 processes); about a minute on 2 cores
LSNS_ENV=(env ROUNDS="${LSNS_ROUNDS:-5}" RUNS="${LSNS_RUNS:-3}" WARMUP="${LSNS_WARMUP:-1}" LEVELS="${LSNS_LEVELS:-${LEVELS:-0 3000}}")
section "lsns and lsns -J with extra processes in 200 namespaces"
piece lsns "${LSNS_ENV[@]}" "$KIT/lsns.sh" util-linux "nsbox=$NSBOX"
# mkbridge: per container, beside the ip recipes (net.sh's seed, ipn, batch,
# direct), then at 50 and 500 containers on one bridge, 1 and 50 per process
section "container network: mkbridge beside ip (per container)"
piece net env NSB_KIT="$KIT" "$REPO/bench/mkbridge.sh" "$NSBOX"
# mkbridge for an unprivileged user (the set-user-ID install, by policy)
# beside root's, for the same rootless container (USERNET_K, USERNET_ROUNDS)
section "a rootless container's port: the privileged mkbridge beside root's"
piece usernet "$REPO/bench/usernet.sh" "$NSBOX"
# nsbox-bridge: ADD then DEL per container beside bridge + host-local, then
# 500 ADDs and one GC (CNI_N, CNI_ROUNDS, CNI_SCALE; make cnitools first)
section "CNI plugin: nsbox-bridge beside bridge + host-local"
piece cni "$REPO/bench/cni.sh" "$NSBOX" "${CNI_TOOLS_DIR:-$REPO/out/cnitools}"

# ---- summary: nsbox against util-linux, workload by workload ----
# start.txt rows: WORKLOAD... IMPL MEDIAN UNIT (MIN-MAX) XRAW XREF CPU CPURAW
#                 WORKLOAD... IMPL n/a - - - # failed: ...
# mem.txt rows:   WORKLOAD... IMPL KIB KiB (MIN-MAX)  |  WORKLOAD... IMPL n/a
section "summary: nsbox / util-linux (below 1.00: nsbox is faster or smaller)"
touch "$OUT/start.txt" "$OUT/mem.txt" "$OUT/pin.txt" "$OUT/pinnetns.txt" "$OUT/lsns.txt" "$OUT/net.txt"
# lsns.txt also has "cost per extra process" rows (WORKLOAD IMPL US): the
# timing rows are those with a (min-max) field
grep -F '(' "$OUT/lsns.txt" >"$OUT/lsns-times.txt" || true
awk '
	function key(i,   k, w) { w = $1; for (k = 2; k < i; k++) w = w " " $k; return w }
	function row(file,   i) {
		for (i = 2; i <= NF; i++) if ($i == "util-linux" || $i == "nsbox") break
		if (i > NF || $1 ~ /^#/) return
		wl = key(i); impl = $i
		if (!(wl in seen)) { seen[wl] = 1; order[++nw] = wl }
		if (file == "mem") { rss[wl, impl] = $(i + 1); return }
		if ($(i + 1) == "n/a") { med[wl, impl] = "n/a"; return }
		med[wl, impl] = $(i + 1) " " $(i + 2); xref[wl, impl] = $(i + 5); cpu[wl, impl] = $(i + 6)
	}
	FNR == 1 { file = (FILENAME ~ /mem\.txt$/) ? "mem" : "time" }
	{ row(file) }
	function r(a, b) { return (a + 0 > 0 && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
	END {
		printf "%-28s %8s %8s %8s %14s %14s\n", "# workload", "time", "cpu", "rss", "nsbox", "util-linux"
		for (k = 1; k <= nw; k++) {
			wl = order[k]
			if (!((wl, "util-linux") in med) && !((wl, "util-linux") in rss)) continue
			if (med[wl, "nsbox"] == "n/a") { printf "%-28s %8s   # nsbox failed (see start.txt)\n", wl, "n/a"; continue }
			# x ref is relative to the group reference; when util-linux is not
			# that reference in this workload (nsenter -muinp), divide by its own
			t = xref[wl, "nsbox"]; u = xref[wl, "util-linux"]
			note = ""
			if (t != "" && t != "-" && u != "" && u != "-" && u + 0 != 1) { t = r(t, u); note = "   # ratio of x ref columns" }
			if (t == "") t = "-"
			printf "%-28s %8s %8s %8s %14s %14s%s\n", wl, t, r(cpu[wl, "nsbox"], cpu[wl, "util-linux"]),
				r(rss[wl, "nsbox"], rss[wl, "util-linux"]),
				((wl, "nsbox") in med ? med[wl, "nsbox"] : "-"), ((wl, "util-linux") in med ? med[wl, "util-linux"] : "-"), note
		}
		print "# time: median of per-round wall-time ratios (the kit'"'"'s x ref); cpu, rss: ratio of the medians"
	}
' "$OUT/start.txt" "$OUT/pin.txt" "$OUT/lsns-times.txt" "$OUT/mem.txt" | tee "$OUT/summary.txt"
# pin's target: pin + unpin at least as fast as "ip netns add" + "ip netns del"
# (pinnetns.txt rows: WORKLOAD(2 words) IMPL MEDIAN UNIT (MIN-MAX) XRAW XREF CPU CPURAW)
awk '
	$1 == "pin+unpin" && $3 == "ip-netns" && $4 != "n/a" { ipm = $4 " " $5; ipc = $9 }
	$1 == "pin+unpin" && $3 == "nsbox" && $4 != "n/a" { m = $4 " " $5; x = $8; c = $9 }
	END {
		if (m == "" || ipm == "") { print "# pin + unpin netns vs ip netns add + del: n/a (see pinnetns.txt)"; exit }
		printf "%-28s %8s %8s %8s %14s %14s   # vs ip netns add + del (the target: time <= 1.00)\n",
			"pin+unpin netns (pin -d)", x, (ipc > 0 ? sprintf("%.2f", c / ipc) : "-"), "-", m, ipm
	}
' "$OUT/pinnetns.txt" | tee -a "$OUT/summary.txt"
# lsns's target: at least 3x faster than util-linux (median wall time) at +3000
# (lsns-times.txt rows: lsns [-J] +LEVEL IMPL MEDIAN UNIT (MIN-MAX) XRAW XREF CPU CPURAW)
awk '
	function ms(v, u) { return u == "s" ? v * 1000 : (u == "us" ? v / 1000 : v) }
	{
		for (i = 2; i <= NF; i++) if ($i == "util-linux" || $i == "nsbox") break
		if (i > NF || $(i + 1) == "n/a") next
		wl = $1; for (k = 2; k < i; k++) wl = wl " " $k
		t[wl, $i] = ms($(i + 1), $(i + 2)); if (!(wl in seen)) { seen[wl] = 1; order[++n] = wl }
	}
	END {
		for (k = 1; k <= n; k++) {
			wl = order[k]
			if (wl !~ /[+][1-9]/ || !((wl, "nsbox") in t) || !((wl, "util-linux") in t) || t[wl, "nsbox"] <= 0) continue
			printf "# %s: util-linux %.1f ms, nsbox %.1f ms: nsbox %.2fx faster (the target: >= 3)\n",
				wl, t[wl, "util-linux"], t[wl, "nsbox"], t[wl, "util-linux"] / t[wl, "nsbox"]
		}
	}
' "$OUT/lsns-times.txt" | tee -a "$OUT/summary.txt"
# mkbridge's targets: the summary lines of bench/mkbridge.sh
grep -E '^(mkbridge( --new)?|the kernel alone), ' "$OUT/net.txt" | sed 's/^/# /' | tee -a "$OUT/summary.txt" || true
grep -E '^usernet, ' "$OUT/usernet.txt" 2>/dev/null | sed 's/^/# /' | tee -a "$OUT/summary.txt" || true
grep -E '^cni (add\+del|scale):' "$OUT/cni.txt" 2>/dev/null | sed 's/^/# /' | tee -a "$OUT/summary.txt" || true
grep -m1 '^init total' "$OUT/inittrace.txt" 2>/dev/null | sed 's/^/# nsbox unshare -u (C fast path): /' | tee -a "$OUT/summary.txt" || true
grep -m1 '^init total' "$OUT/inittrace-go.txt" 2>/dev/null | sed 's/^/# nsbox unshare -u (Go applet, _NSBOX_NOFAST=1): /' | tee -a "$OUT/summary.txt" || true

if [ -f "$TMPBASE/start/results.tsv" ]; then cp "$TMPBASE/start/results.tsv" "$OUT/"; fi
printf '\n# done in %d s; results in %s\n' "$(($(date +%s) - START))" "$OUT"
if [ ${#failed[@]} -gt 0 ]; then
	printf 'bench: failed: %s\n' "${failed[*]}" >&2
	exit 1
fi
