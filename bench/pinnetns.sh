#!/usr/bin/env bash
# bench/pinnetns.sh - pin and unpin a network namespace, nsbox pin side by
# side with iproute2, in one group (the kit's pin.sh times nsbox's pin only
# followed by umount, and in another group than "ip netns add/del").
#
#   bench/pinnetns.sh NSBOX
#
# Each timed command is a loop of K cycles (PIN_K, default 5) in one sh;
# figures are per cycle. Rows:
#   ip-netns    ip netns add NAME; ip netns del NAME      (ref: the target)
#   ip-attach   ip netns attach NAME PID; ip netns del NAME
#   nsbox       nsbox pin -t PID --netns NAME; nsbox pin -d --netns NAME
#   nsbox-file  nsbox pin -t PID --net=FILE; nsbox pin -d FILE
#   raw-C       nsraw pin /proc/PID/ns/net FILE; nsraw unpin FILE (the floor:
#               two static C processes, a mount and an umount; FILE stays)
# PID is a sleeper in a new network namespace, started here. Needs the
# shared kit (NSB_KIT, default ../shared/bench beside the repository) for
# lib.sh and nsraw.c; its knobs (ROUNDS, RUNS, WARMUP) apply. Run as root.
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$REPO/bench/lock.sh"
KIT=${NSB_KIT:-$REPO/../shared/bench}
NSBOX=${1:?usage: pinnetns.sh NSBOX}
[ -f "$KIT/lib.sh" ] || { printf 'pinnetns: no %s/lib.sh (set NSB_KIT)\n' "$KIT" >&2; exit 2; }
ROUNDS=${ROUNDS:-5} RUNS=${RUNS:-5}
. "$KIT/lib.sh"
K=${PIN_K:-5}
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$NSBOX" ] || die "$NSBOX: not an executable file"
need hyperfine "apt-get install hyperfine"
need ip iproute2
nsb_init
build_nsraw
F=$NSB_TMP/pinnetns.file
RAWF=$NSB_TMP/pinnetns.raw # nsraw binds onto an existing file and leaves it
: >"$RAWF"
NAME=nsbpinnetns$$
at_exit "'$NSBOX' pin -d '$F'; umount '$RAWF'; ip netns del $NAME; '$NSBOX' pin -d --netns $NAME; rm -f '$F' '$RAWF'"

unshare -n sleep 900 </dev/null >/dev/null 2>&1 &
TARGET=$!
at_exit "kill $TARGET; wait $TARGET"
for _ in $(seq 1 200); do
	[ "$(readlink "/proc/$TARGET/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.01
done

loop() { printf "sh -c 'i=0; while [ \$i -lt %s ]; do %s || exit 1; %s || exit 1; i=\$((i+1)); done'" "$K" "$1" "$2"; }

W="pin+unpin netns"
bench_group "$W" "" "$K"
bench_add "$W" raw-C raw "$(loop "$NSRAW pin /proc/$TARGET/ns/net $RAWF" "$NSRAW unpin $RAWF")"
bench_add "$W" ip-netns ref "$(loop "ip netns add $NAME" "ip netns del $NAME")"
bench_add "$W" ip-attach - "$(loop "ip netns attach $NAME $TARGET" "ip netns del $NAME")"
bench_add "$W" nsbox - "$(loop "$NSBOX pin -t $TARGET --netns $NAME" "$NSBOX pin -d --netns $NAME")"
bench_add "$W" nsbox-file - "$(loop "$NSBOX pin -t $TARGET --net=$F" "$NSBOX pin -d $F")"
bench_run
log "K=$K cycles per timed loop; runs: ${ROUNDS}x${RUNS}"
