#!/usr/bin/env bash
# bench/cni.sh - nsbox-bridge, the CNI plugin, beside the reference bridge
# + host-local plugins, executed directly as a runtime does (one process
# per command, the configuration on stdin).
#
#   bench/cni.sh NSBOX TOOLS
#
# TOOLS is the directory of the reference plugins built at the versions
# cnitest/go.mod pins (out/cnitools: make cnitools).
# 1. ADD then DEL per container (CNI_N containers, 100; CNI_ROUNDS rounds,
#    5, the two plugins alternating): the same bridge settings (a new bridge,
#    isGateway, a /16), each plugin on a bridge of its own; the median of the
#    per-round times per container, and the ratio reference / nsbox-bridge
#    (the target: >= 2).
# 2. Scale (CNI_SCALE, 500): that many ADDs on one bridge, each timed, then
#    one GC with no valid attachment; every attachment must be gone. The
#    ratio of the mean of the last 50 ADDs to the first 50 (the target:
#    <= 1.2); CNI_SCALE_ROUNDS rounds (3), the median round (a loaded
#    machine moves a single round's ratio by 0.1 or more).
# Run as root. Names nbc<pid>..., subnets 10.217.0.0/16 and 10.218.0.0/16;
# an exit trap removes what is left.
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$REPO/bench/lock.sh"
NSBOX=${1:?usage: cni.sh NSBOX TOOLS}
TOOLS=${2:?usage: cni.sh NSBOX TOOLS}
die() { printf 'cni.sh: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$NSBOX" ] || die "$NSBOX: not an executable file"
for p in bridge host-local; do [ -x "$TOOLS/$p" ] || die "$TOOLS/$p: missing (make cnitools)"; done
NSBOX=$(cd "$(dirname "$NSBOX")" && pwd)/$(basename "$NSBOX")
TOOLS=$(cd "$TOOLS" && pwd)
N=${CNI_N:-100}
ROUNDS=${CNI_ROUNDS:-5}
SCALE=${CNI_SCALE:-500}
P=nbc$(($$ % 10000))
TMP=$(mktemp -d)
DIR=$TMP/bin
mkdir -p "$DIR"
ln -s "$NSBOX" "$DIR/nsbox-bridge"
ln -s "$TOOLS/bridge" "$TOOLS/host-local" "$DIR/"

# The reference plugin turns net.ipv4.ip_forward on for a gateway and
# leaves it on: the trap sets it back.
FWD=$(cat /proc/sys/net/ipv4/ip_forward)
cleanup() {
	echo "$FWD" >/proc/sys/net/ipv4/ip_forward
	for f in /run/netns/"$P"c*; do [ -e "$f" ] && ip netns del "${f##*/}"; done
	ip link del "${P}n" 2>/dev/null
	ip link del "${P}r" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

conf_nsbox() { printf '{"cniVersion":"1.1.0","name":"%s","type":"nsbox-bridge","bridge":"%s","isGateway":true,"ipam":{"type":"nsbox","subnet":"%s"}%s}' "$P-n" "$1" "$2" "${3:-}"; }
conf_ref() { printf '{"cniVersion":"1.1.0","name":"%s","type":"bridge","bridge":"%s","isGateway":true,"ipam":{"type":"host-local","subnet":"%s","dataDir":"%s"}}' "$P-r" "$1" "$2" "$TMP/ipam"; }
conf_nsbox "${P}n" 10.217.0.0/16 >"$TMP/nsbox.json"
conf_ref "${P}r" 10.218.0.0/16 >"$TMP/ref.json"

mkns() { # mkns N: netns $P c1..N (untimed)
	local i
	for ((i = 1; i <= $1; i++)); do echo "netns add ${P}c$i"; done | ip -batch - || die "ip netns add"
}
rmns() {
	local f
	for f in /run/netns/"$P"c*; do [ -e "$f" ] && echo "netns del ${f##*/}"; done | ip -batch - 2>/dev/null
}
# cni PLUGIN CONF COMMAND I: one execution for container I
cni() {
	CNI_COMMAND=$3 CNI_CONTAINERID=$P-$4 CNI_NETNS=/run/netns/${P}c$4 CNI_IFNAME=eth0 CNI_PATH=$DIR \
		"$DIR/$1" <"$2" >"$TMP/out" || die "$1 $3 $4: $(cat "$TMP/out")"
}
us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# ---- 1. ADD then DEL, per container ----
mkns "$N"
declare -a nsb ref
for ((r = 1; r <= ROUNDS; r++)); do
	for impl in nsbox ref; do
		plugin=nsbox-bridge
		[ $impl = ref ] && plugin=bridge
		t0=$(us)
		for ((i = 1; i <= N; i++)); do
			cni $plugin "$TMP/$impl.json" ADD "$i"
			cni $plugin "$TMP/$impl.json" DEL "$i"
		done
		t1=$(us)
		per=$(((t1 - t0) / N))
		if [ $impl = nsbox ]; then nsb+=("$per"); else ref+=("$per"); fi
	done
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mn=$(median "${nsb[@]}")
mr=$(median "${ref[@]}")
printf '# ADD+DEL per container, one process per command, N=%s, %s rounds (us, median of rounds)\n' "$N" "$ROUNDS"
printf 'nsbox-bridge          %8d us   rounds: %s\n' "$mn" "${nsb[*]}"
printf 'bridge+host-local     %8d us   rounds: %s\n' "$mr" "${ref[*]}"
awk -v r="$mr" -v n="$mn" 'BEGIN { printf "cni add+del: bridge+host-local %.0f us, nsbox-bridge %.0f us: nsbox-bridge %.2fx faster (the target: >= 2)\n", r, n, r / n }'
rmns
ip link del "${P}n" 2>/dev/null
ip link del "${P}r" 2>/dev/null

# ---- 2. SCALE ADDs on one bridge, then one GC (CNI_SCALE_ROUNDS rounds) ----
scale_round() {
	mkns "$SCALE"
	conf_nsbox "${P}n" 10.217.0.0/16 >"$TMP/nsbox.json"
	: >"$TMP/times"
	for ((i = 1; i <= SCALE; i++)); do
		t0=$(us)
		cni nsbox-bridge "$TMP/nsbox.json" ADD "$i"
		t1=$(us)
		echo $((t1 - t0)) >>"$TMP/times"
	done
	ports=$(ls /sys/class/net/"${P}n"/brif | wc -l)
	conf_nsbox "${P}n" 10.217.0.0/16 ',"cni.dev/valid-attachments":[]' >"$TMP/gc.json"
	t0=$(us)
	CNI_COMMAND=GC CNI_PATH=$DIR "$DIR/nsbox-bridge" <"$TMP/gc.json" >"$TMP/out" || die "GC: $(cat "$TMP/out")"
	t1=$(us)
	left=$(ls /sys/class/net/"${P}n"/brif | wc -l)
	inside=0
	for ((i = 1; i <= SCALE; i++)); do ip -n "${P}c$i" link show eth0 >/dev/null 2>&1 && inside=$((inside + 1)); done
	awk -v n="$SCALE" -v ports="$ports" -v left="$left" -v inside="$inside" -v gc=$((t1 - t0)) '
		{ t[NR] = $1 }
		END {
			for (i = 1; i <= 50; i++) { f += t[i]; l += t[n - 50 + i] }
			printf "%.0f %.0f %.4f %d %d %d %d\n", f / 50, l / 50, l / f, gc / 1000, ports, left, inside
		}' "$TMP/times" >>"$TMP/scale"
	rmns
	ip link del "${P}n" 2>/dev/null
}
if [ "$SCALE" -gt 0 ]; then
	: >"$TMP/scale"
	for ((r = 1; r <= ${CNI_SCALE_ROUNDS:-3}; r++)); do scale_round; done
	printf '# %s ADDs on one bridge, then one GC with none valid; %s rounds (median of the rounds)\n' "$SCALE" "${CNI_SCALE_ROUNDS:-3}"
	sort -k3 -n "$TMP/scale" | awk '{ a[NR] = $0 } END {
		split(a[int((NR + 1) / 2)], m, " ")
		for (i = 1; i <= NR; i++) { split(a[i], x, " "); ratios = ratios sprintf(" %.2f", x[3]); if (x[6] + x[7] > 0) bad = 1 }
		printf "ADD: first 50 %d us, last 50 %d us (mean); GC %d ms; ports before %d, after %d; container ends left %d\n", m[1], m[2], m[4], m[5], m[6], m[7]
		printf "cni scale: last 50 ADDs / first 50 = %.2f (rounds:%s; the target: <= 1.2); GC left %s\n", m[3], ratios, bad ? "attachments" : "nothing"
	}'
fi
