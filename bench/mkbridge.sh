#!/usr/bin/env bash
# bench/mkbridge.sh - container network set-up, nsbox mkbridge beside the
# iproute2 recipes, per container.
#
#   bench/mkbridge.sh NSBOX
#
# 1. The kit's net.sh (N=NET_N, 50; 0 skips it): a bridge, then N containers, each made
#    by the classic one-ip-per-step recipe (seed), ip -n (ipn), ip -batch
#    (batch, direct) and, as "custom", by one process per container,
#        NSBOX mkbridge --new -b BR -a ADDR -g GW --host-ifname HOST NS
#    (the same work as seed: --new makes the namespace as ip netns add
#    does); torn down by ip netns del. Ratios x batch, x seed.
# 2. Scale (SCALE_NS, "50 500"): N network namespaces made beforehand
#    (untimed, one ip -batch), then N runs of "NSBOX mkbridge -b BR NS" (auto
#    addresses; the first run creates the bridge) timed: one process per
#    container, start-up included; every container is checked reachable
#    from the bridge (a TCP connect to port 9 of its address is refused by
#    its kernel: no packet leaves the bridge); then N "mkbridge -d NS"
#    timed, the bridge removed, the namespaces deleted. SCALE_ROUNDS (3)
#    rounds; medians per container.
# Needs the shared kit (NSB_KIT, default ../shared/bench beside the
# repository). Run as root. Names: nbm<pid>..., subnets 10.213.0.0/24 (net.sh)
# and 10.214.0.0/16; an exit trap removes leftovers.
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$REPO/bench/lock.sh"
KIT=${NSB_KIT:-$REPO/../shared/bench}
NSBOX=${1:?usage: mkbridge.sh NSBOX}
[ -f "$KIT/lib.sh" ] && [ -f "$KIT/net.sh" ] || { printf 'mkbridge.sh: no %s/lib.sh or net.sh (set NSB_KIT)\n' "$KIT" >&2; exit 2; }
. "$KIT/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$NSBOX" ] || die "$NSBOX: not an executable file"
need ip iproute2
nsb_init

NET_N=${NET_N:-50}
SCALE_NS=${SCALE_NS:-50 500}
SCALE_ROUNDS=${SCALE_ROUNDS:-3}
P=nbm$(($$ % 10000))
BR=${P}br
now() { date +%s%N; }
# cpu VAR: VAR = user+system time, in us, of the children this shell has
# waited for so far (bash's times, run in this shell, not a subshell; less
# sensitive to other load than wall time)
cpu() {
	local u s
	times >"$NSB_TMP/times"
	{ read -r _ _; read -r u s; } <"$NSB_TMP/times"
	printf -v "$1" '%d' "$(awk -v u="$u" -v s="$s" 'function us(v,   m) { m = v; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", v); sub(/s$/, "", v); return (m * 60 + v) * 1e6 }
		BEGIN { printf "%d", us(u) + us(s) }')"
}

# ---- 1. net.sh, side by side ----
: >"$NSB_TMP/net.txt"
if [ "$NET_N" != 0 ]; then
	printf '# net.sh: per-container set-up, N=%s (custom = nsbox mkbridge --new: one process per container)\n' "$NET_N"
	ROUNDS=${NET_ROUNDS:-5} NSB_TMP=$NSB_TMP/net "$KIT/net.sh" -n "$NET_N" \
		-c "$NSBOX mkbridge --new -b \"\$BR\" -a \"\$ADDR\" -g \"\$GW\" --host-ifname \"\$HOST\" \"\$NS\" >/dev/null" |
		tee "$NSB_TMP/net.txt"
fi

# ---- 2. scale ----
purge() {
	local f
	for f in /run/netns/"$P"c*; do [ -e "$f" ] && ip netns del "${f##*/}"; done
	ip link del "$BR" 2>/dev/null
	return 0
}
at_exit purge

# settle: wait (at most 20 s) until the kernel has destroyed the network
# namespaces of the previous round (cleanup_net runs in the background and
# would be timed with the next round): until the active objects of the
# net_namespace slab (root: /proc/slabinfo) stop falling.
netns_objs() { awk '$1 == "net_namespace" { print $2 }' /proc/slabinfo 2>/dev/null; }
settle() {
	local a b k
	a=$(netns_objs)
	[ -n "$a" ] || { sleep 2; return; }
	for ((k = 0; k < 40; k++)); do
		sleep 0.5
		b=$(netns_objs)
		[ "$b" -ge "$a" ] && break
		a=$b
	done
}

reachable() { # reachable ADDR: its kernel answers a TCP SYN (refused); 3 tries
	local out k
	for k in 1 2 3; do
		out=$(timeout 3 bash -c "exec 3<>/dev/tcp/$1/9" 2>&1)
		case $out in *refused*) return 0 ;; esac
	done
	return 1
}

printf '\n# scale: one "nsbox mkbridge -b BR NS" per container (auto address), namespaces made beforehand\n'
printf '%-28s %8s %12s %12s %12s  %s\n' '# workload' N 'setup/ctr' 'teardown/ctr' 'total setup' check
for n in $SCALE_NS; do
	: >"$NSB_TMP/scale.$n"
	for ((r = 1; r <= SCALE_ROUNDS; r++)); do
		for ((i = 1; i <= n; i++)); do echo "netns add ${P}c$i"; done >"$NSB_TMP/mk.batch"
		ip -batch "$NSB_TMP/mk.batch" || die "ip netns add failed"
		settle
		ok=ok
		k=$((n < 100 ? n / 2 : 50)) # the first and the last k containers are timed apart too
		cpu c0
		t0=$(now)
		for ((i = 1; i <= n; i++)); do
			[ $i = $((k + 1)) ] && { tf=$(now); cpu cf; }
			[ $i = $((n - k + 1)) ] && { tl=$(now); cpu cl; }
			"$NSBOX" mkbridge -b "$BR" --bridge-addr 10.214.0.1/16 "${P}c$i" >"$NSB_TMP/out.$i" || { ok=FAILED; break; }
		done
		t1=$(now)
		cpu c1
		if [ $ok = ok ]; then
			bad=0
			for ((i = 1; i <= n; i++)); do
				read -r _ a <"$NSB_TMP/out.$i"
				reachable "${a%%/*}" || bad=$((bad + 1))
			done
			[ $bad = 0 ] || ok="UNREACHABLE($bad)"
			dups=$(cat "$NSB_TMP"/out.* | awk '{print $2}' | sort | uniq -d | wc -l)
			[ "$dups" = 0 ] || ok="$ok,DUPLICATES($dups)"
		fi
		t2=$(now)
		for ((i = 1; i <= n; i++)); do "$NSBOX" mkbridge -d "${P}c$i" || ok="$ok,DELFAILED"; done
		t3=$(now)
		"$NSBOX" mkbridge --delete-bridge -b "$BR" || ok="$ok,BRIDGE-LEFT"
		left=$(ip -o link show 2>/dev/null | grep -c "master $BR")
		[ "$left" = 0 ] || ok="$ok,LEFT($left)"
		rm -f "$NSB_TMP"/out.*
		for ((i = 1; i <= n; i++)); do echo "netns del ${P}c$i"; done >"$NSB_TMP/rm.batch"
		ip -batch "$NSB_TMP/rm.batch"
		purge
		echo "$r $(((t1 - t0) / 1000)) $(((t3 - t2) / 1000)) $ok $(((tf - t0) / 1000 / k)) $(((t1 - tl) / 1000 / k)) $(((c1 - c0) / n)) $(((cf - c0) / k)) $(((c1 - cl) / k))" >>"$NSB_TMP/scale.$n"
		log "scale N=$n round $r: setup $(((t1 - t0) / 1000)) us, teardown $(((t3 - t2) / 1000)) us, $ok"
	done
	awk -v n="$n" '
		function sort(a, k,   x, y, t) { for (x = 2; x <= k; x++) { t = a[x]; for (y = x - 1; y >= 1 && a[y] > t; y--) a[y + 1] = a[y]; a[y + 1] = t } }
		function med(a, k) { sort(a, k); return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
		{ k++; s[k] = $2; d[k] = $3; f[k] = $5; l[k] = $6; c[k] = $7; cf[k] = $8; cl[k] = $9; if ($4 != "ok") bad = bad " " $4 }
		END { printf "%-28s %8d %9.2f ms %9.2f ms %9.1f ms  %s   (first/last containers: %.2f / %.2f ms; cpu per container %.2f ms, first/last %.2f / %.2f)\n", "mkbridge (scale)", n, med(s, k) / 1000 / n, med(d, k) / 1000 / n, med(s, k) / 1000, (bad == "" ? "ok" : bad), med(f, k) / 1000, med(l, k) / 1000, med(c, k) / 1000, med(cf, k) / 1000, med(cl, k) / 1000 }
	' "$NSB_TMP/scale.$n" | tee -a "$NSB_TMP/scale.txt"
done

# ---- summary: mkbridge per container beside the ip recipes ----
printf '\n# summary (per container, set-up)\n'
awk '
	FILENAME ~ /net.txt$/ && $1 == "net" && $2 == "setup" { per[$3] = $7 + 0 }
	FILENAME ~ /scale.txt$/ && $1 == "mkbridge" { if (!first) { first = $4 + 0; firstN = $3 } }
	END {
		for (v in per) if (per[v] <= 0) delete per[v]
		if ("custom" in per) printf "mkbridge --new (net.sh)     %6.2f ms   classic/this %5.2fx   ip -n/this %5.2fx   ip -batch/this %5.2fx\n",
			per["custom"], per["seed"] / per["custom"], per["ipn"] / per["custom"], per["batch"] / per["custom"]
		if (first) printf "mkbridge alone (scale N=%s)  %6.2f ms   classic/this %5.2fx   ip -n/this %5.2fx   ip -batch/this %5.2fx   (targets: <= 7 ms, >= 8x, >= 3x)\n",
			firstN, first, per["seed"] / first, per["ipn"] / first, per["batch"] / first
	}
' "$NSB_TMP/net.txt" "$NSB_TMP/scale.txt"
