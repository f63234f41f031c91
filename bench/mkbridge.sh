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
# 2. Scale: N containers on one new bridge (auto addresses; the first
#    target creates the bridge), PER targets per mkbridge process:
#        NSBOX mkbridge -b BR --bridge-addr 10.214.0.1/16 NS1 ... NSPER
#    timed, the Go start included, N/PER processes one after the other.
#    The network namespaces are made beforehand (untimed, one ip -batch),
#    except in the --new row, where mkbridge --new makes them (the work of
#    net.sh's rows). Every container is checked reachable from the bridge
#    (a TCP connect to port 9 of its address is refused by its kernel: no
#    packet leaves the bridge), no address given twice; then
#    "mkbridge -d NS..." (PER per process) timed, the bridge removed, no
#    port left, the namespaces deleted. Rows:
#      PER=1 for N in SCALE_NS ("50 500"): one process per container;
#      PER=BATCH (50) for N in BATCH_NS ("50 500"): several targets per
#        process (N=50: one process; N=500: ten);
#      --new, PER=BATCH, N=BATCH (NEW_BATCH=0 skips it);
#      the kernel's own part of the same work at 10*BATCH containers, as
#        one ip -batch per BATCH containers (each veth created with its
#        peer inside the namespace, attached to the bridge, up: no
#        address, no route), the first and the last BATCH timed: how much
#        of mkbridge's growth with the bridge's size is the kernel's
#        (KERNEL=0 skips it).
#    The first and the last K containers are timed apart (K=PER when PER
#    > 1, else 50, or N/2 below 100). SCALE_ROUNDS (3) rounds; medians per
#    container.
# 3. Summary: the ratios and their targets (mkbridge with 50 targets in one
#    process at most a fifth of ip -batch per container; the last 50 of 500
#    at most 1.2x the first 50; one mkbridge --new per container at least
#    5x faster than the classic recipe).
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
BATCH=${BATCH:-50}
BATCH_NS=${BATCH_NS:-50 500}
NEW_BATCH=${NEW_BATCH:-1}
KERNEL=${KERNEL:-1}
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

# verify N: every line of out names a container reachable from the
# bridge, N lines, no address twice; prints ok or what is wrong
verify() {
	local n=$1 bad=0 lines dups a
	lines=$(wc -l <"$NSB_TMP/out")
	[ "$lines" = "$n" ] || { printf 'LINES(%s)' "$lines"; return; }
	while read -r _ a; do
		reachable "${a%%/*}" || bad=$((bad + 1))
	done <"$NSB_TMP/out"
	dups=$(awk '{print $2}' "$NSB_TMP/out" | sort | uniq -d | wc -l)
	if [ $bad != 0 ]; then printf 'UNREACHABLE(%s)' $bad; elif [ "$dups" != 0 ]; then printf 'DUPLICATES(%s)' "$dups"; else printf ok; fi
}

# scale LABEL N PER NEW: SCALE_ROUNDS rounds of N containers, PER targets
# per mkbridge process (NEW=1: mkbridge --new makes the namespaces); one
# line per round in scale.LABEL.N:
# ROUND SETUP_US TEARDOWN_US CHECK CPU/N FIRST_US/K LAST_US/K CPUF/K CPUL/K
# (the last four 0 when K is 0: one process, or too few containers)
scale() {
	local label=$1 n=$2 per=$3 new=$4 r i j k ok procs t0 t1 t2 t3 tf tl c0 c1 cf cl left raw fl
	local -a groups
	local newopt=()
	[ "$new" = 1 ] && newopt=(--new)
	raw=$NSB_TMP/scale.$label.$n
	: >"$raw"
	# the targets of each process, one word list per process
	groups=()
	for ((i = 1; i <= n; i += per)); do
		groups+=("$(for ((j = i; j < i + per && j <= n; j++)); do printf '%sc%d ' "$P" $j; done)")
	done
	procs=${#groups[@]}
	if [ "$per" -gt 1 ]; then k=$per; else k=$((n < 100 ? n / 2 : 50)); fi
	[ $((n / k)) -ge 2 ] || k=0 # no first/last apart: one process, or too few
	for ((r = 1; r <= SCALE_ROUNDS; r++)); do
		if [ "$new" = 0 ]; then
			for ((i = 1; i <= n; i++)); do echo "netns add ${P}c$i"; done >"$NSB_TMP/mk.batch"
			ip -batch "$NSB_TMP/mk.batch" || die "ip netns add failed"
		fi
		settle
		ok=ok tf=0 tl=0 cf=0 cl=0
		: >"$NSB_TMP/out"
		cpu c0
		t0=$(now)
		for ((i = 0; i < procs; i++)); do
			[ $k != 0 ] && [ $((i * per)) = $k ] && { tf=$(now); cpu cf; }
			[ $k != 0 ] && [ $((i * per)) = $((n - k)) ] && { tl=$(now); cpu cl; }
			# shellcheck disable=SC2086 # the names are words without blanks or globs
			"$NSBOX" mkbridge "${newopt[@]}" -b "$BR" --bridge-addr 10.214.0.1/16 ${groups[i]} >>"$NSB_TMP/out" || { ok=FAILED; break; }
		done
		t1=$(now)
		cpu c1
		[ $ok = ok ] && ok=$(verify "$n")
		t2=$(now)
		for ((i = 0; i < procs; i++)); do
			# shellcheck disable=SC2086
			"$NSBOX" mkbridge -d ${groups[i]} || ok="$ok,DELFAILED"
		done
		t3=$(now)
		"$NSBOX" mkbridge --delete-bridge -b "$BR" || ok="$ok,BRIDGE-LEFT"
		left=$(ip -o link show 2>/dev/null | grep -c "master $BR\|altname nsbox-mkbridge\.$BR\.")
		[ "$left" = 0 ] || ok="$ok,LEFT($left)"
		for ((i = 1; i <= n; i++)); do echo "netns del ${P}c$i"; done >"$NSB_TMP/rm.batch"
		ip -batch "$NSB_TMP/rm.batch" 2>/dev/null
		purge
		fl="0 0 0 0"
		[ $k = 0 ] || fl="$(((tf - t0) / 1000 / k)) $(((t1 - tl) / 1000 / k)) $(((cf - c0) / k)) $(((c1 - cl) / k))"
		echo "$r $(((t1 - t0) / 1000)) $(((t3 - t2) / 1000)) $ok $(((c1 - c0) / n)) $fl" >>"$raw"
		log "$label N=$n round $r: setup $(((t1 - t0) / 1000)) us, teardown $(((t3 - t2) / 1000)) us, $ok"
	done
	# median per container; the row, and a line of scale.tsv for the summary
	awk -v label="$label" -v n="$n" -v per="$per" -v k="$k" -v tsv="$NSB_TMP/scale.tsv" '
		function sort(a, m,   x, y, t) { for (x = 2; x <= m; x++) { t = a[x]; for (y = x - 1; y >= 1 && a[y] > t; y--) a[y + 1] = a[y]; a[y + 1] = t } }
		function med(a, m) { sort(a, m); return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
		{ m++; s[m] = $2; d[m] = $3; c[m] = $5; f[m] = $6; l[m] = $7; cf[m] = $8; cl[m] = $9; if ($4 != "ok") bad = bad " " $4 }
		END {
			fl = k > 0 ? sprintf("first/last %d: %.2f / %.2f ms; ", k, med(f, m) / 1000, med(l, m) / 1000) : ""
			cfl = k > 0 ? sprintf(", first/last %.2f / %.2f", med(cf, m) / 1000, med(cl, m) / 1000) : ""
			printf "%-30s %5d %5d %9.2f ms %9.2f ms %9.1f ms  %s   (%scpu per container %.2f ms%s)\n", label, n, per,
				med(s, m) / 1000 / n, med(d, m) / 1000 / n, med(s, m) / 1000, (bad == "" ? "ok" : bad), fl, med(c, m) / 1000, cfl
			printf "%s %d %d %.3f %.3f %.3f %.3f %s %d\n", label, n, per, med(s, m) / 1000 / n, med(d, m) / 1000 / n,
				(k > 0 ? med(f, m) / 1000 : 0), (k > 0 ? med(l, m) / 1000 : 0), (bad == "" ? "ok" : bad), k >>tsv
		}
	' "$raw" | tee -a "$NSB_TMP/scale.txt"
}

# kernel N PER: SCALE_ROUNDS rounds of the kernel's part of N containers
# on one bridge, PER per ip -batch; its line in scale.tsv as "ip-kernel".
kernel() {
	local n=$1 per=$2 r i b t0 t1 tf tl procs raw=$NSB_TMP/kernel.$1
	procs=$(((n + per - 1) / per))
	: >"$raw"
	for ((r = 1; r <= SCALE_ROUNDS; r++)); do
		for ((i = 1; i <= n; i++)); do echo "netns add ${P}c$i"; done >"$NSB_TMP/mk.batch"
		ip -batch "$NSB_TMP/mk.batch" || die "ip netns add failed"
		ip link add "$BR" address 02:00:00:00:0b:01 type bridge mcast_snooping 0 && ip link set "$BR" up || die "bridge $BR"
		for ((b = 0; b < procs; b++)); do
			for ((i = b * per + 1; i <= (b + 1) * per && i <= n; i++)); do
				echo "link add ${P}h$i numtxqueues 1 numrxqueues 1 type veth peer name eth0 netns ${P}c$i numtxqueues 1 numrxqueues 1"
				echo "link set ${P}h$i master $BR"
				echo "link set ${P}h$i up"
			done >"$NSB_TMP/k.$b"
		done
		settle
		t0=$(now)
		for ((b = 0; b < procs; b++)); do
			[ $b = 1 ] && tf=$(now)
			[ $b = $((procs - 1)) ] && tl=$(now)
			ip -batch "$NSB_TMP/k.$b" || die "ip -batch (kernel row) failed"
		done
		t1=$(now)
		for ((i = 1; i <= n; i++)); do echo "netns del ${P}c$i"; done >"$NSB_TMP/rm.batch"
		ip -batch "$NSB_TMP/rm.batch" 2>/dev/null
		purge
		echo "$(((t1 - t0) / 1000 / n)) $(((tf - t0) / 1000 / per)) $(((t1 - tl) / 1000 / per))" >>"$raw"
		log "kernel N=$n round $r: setup $(((t1 - t0) / 1000)) us"
	done
	awk -v n="$n" -v per="$per" -v tsv="$NSB_TMP/scale.tsv" '
		function sort(a, m,   x, y, t) { for (x = 2; x <= m; x++) { t = a[x]; for (y = x - 1; y >= 1 && a[y] > t; y--) a[y + 1] = a[y]; a[y + 1] = t } }
		function med(a, m) { sort(a, m); return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
		{ m++; s[m] = $1; f[m] = $2; l[m] = $3 }
		END {
			printf "%-30s %5d %5d %9.2f ms %12s %9.1f ms  ok   (first/last %d: %.2f / %.2f ms)\n", "ip-kernel", n, per,
				med(s, m) / 1000, "-", med(s, m) * n / 1000, per, med(f, m) / 1000, med(l, m) / 1000
			printf "ip-kernel %d %d %.3f 0 %.3f %.3f ok %d\n", n, per, med(s, m) / 1000, med(f, m) / 1000, med(l, m) / 1000, per >>tsv
		}
	' "$raw" | tee -a "$NSB_TMP/scale.txt"
}

: >"$NSB_TMP/scale.tsv"
printf '\n# scale: N containers on one bridge, PER targets per "nsbox mkbridge" process (auto addresses); namespaces made beforehand except --new\n'
printf '%-30s %5s %5s %12s %12s %12s  %s\n' '# workload' N PER 'setup/ctr' 'teardown/ctr' 'total setup' check
for n in $SCALE_NS; do scale "mkbridge" "$n" 1 0; done
for n in $BATCH_NS; do scale "mkbridge" "$n" "$BATCH" 0; done
[ "$NEW_BATCH" = 0 ] || scale "mkbridge--new" "$BATCH" "$BATCH" 1
[ "$KERNEL" = 0 ] || kernel $((10 * BATCH)) "$BATCH"

# ---- 3. summary: the ratios and their targets ----
printf '\n# summary (per container, set-up)\n'
awk -v batch="$BATCH" -v scale_ns="$SCALE_NS" '
	FILENAME ~ /net.txt$/ && $1 == "net" && $2 == "setup" { per[$3] = $7 + 0 }
	FILENAME ~ /scale.tsv$/ { ms[$1, $2, $3] = $4; first[$1, $2, $3] = $6; last[$1, $2, $3] = $7; ok[$1, $2, $3] = $8; kk[$1, $2, $3] = $9 }
	function r(a, b) { return (a > 0 && b > 0) ? sprintf("%.2fx", a / b) : "n/a" }
	END {
		for (v in per) if (per[v] <= 0) delete per[v]
		if (("mkbridge", batch, batch) in ms) {
			m = ms["mkbridge", batch, batch]
			printf "mkbridge, %d targets in one process:     %6.2f ms   ip -batch %6.2f ms   ip -batch/this %7s   (target: >= 5.00x)  %s\n",
				batch, m, per["batch"], r(per["batch"], m), ok["mkbridge", batch, batch]
		}
		if (("mkbridge--new", batch, batch) in ms) {
			m = ms["mkbridge--new", batch, batch]
			printf "mkbridge --new, %d in one process:       %6.2f ms   ip -batch %6.2f ms   ip -batch/this %7s   (namespaces made too, as by ip -batch)  %s\n",
				batch, m, per["batch"], r(per["batch"], m), ok["mkbridge--new", batch, batch]
		}
		n = 10 * batch
		if (("mkbridge", n, batch) in ms && first["mkbridge", n, batch] > 0) {
			f = first["mkbridge", n, batch]; l = last["mkbridge", n, batch]
			printf "mkbridge, %d as %d processes of %d:    first %d %6.2f ms   last %d %6.2f ms   last/first %7s   (target: <= 1.20x)  %s\n",
				n, n / batch, batch, batch, f, batch, l, r(l, f), ok["mkbridge", n, batch]
		}
		if (("ip-kernel", n, batch) in ms && first["ip-kernel", n, batch] > 0) {
			f = first["ip-kernel", n, batch]; l = last["ip-kernel", n, batch]
			printf "the kernel alone, %d as %d ip -batch of %d: first %d %6.2f ms   last %d %6.2f ms   last/first %7s   (veth inside, master, up)\n",
				n, n / batch, batch, batch, f, batch, l, r(l, f)
		}
		if ("custom" in per)
			printf "mkbridge --new, a process per container: %6.2f ms   classic %6.2f ms     classic/this %7s   (target: >= 5.00x)   ip -batch/this %s\n",
				per["custom"], per["seed"], r(per["seed"], per["custom"]), r(per["batch"], per["custom"])
		ns = split(scale_ns, sn, " ")
		for (i = 1; i <= ns; i++) {
			k = "mkbridge" SUBSEP sn[i] SUBSEP 1
			if (k in ms)
				printf "mkbridge, a process per container, N=%d: %6.2f ms   classic/this %s   ip -batch/this %s%s  %s\n", sn[i], ms[k],
					r(per["seed"], ms[k]), r(per["batch"], ms[k]),
					(kk[k] > 0 ? sprintf("   first/last %d %.2f / %.2f ms", kk[k], first[k], last[k]) : ""), ok[k]
		}
	}
' "$NSB_TMP/net.txt" "$NSB_TMP/scale.tsv"
