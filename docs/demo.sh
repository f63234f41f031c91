#!/usr/bin/env bash
# docs/demo.sh: a whole container assembled from nsbox applets, one step at
# a time, each command printed before its output (what `make demo` runs).
#
#   docs/demo.sh [NSBOX [ROOTFS]]      default: out/nsbox out/rootfs
#
# As root: user (0 = root, plus root's /etc/subuid block if it has one), UTS,
# IPC, mount, network, cgroup and pid namespaces, pinned into one directory
# handle (pin), eth0 on a demo bridge (mkbridge), lsns, then pivot into
# ROOTFS with nsbox's init as PID 1, commands inside, nsenter from the host,
# and a tear-down that checks nothing is left. As another user: the rootless
# variant (pin --hold), with eth0 on the administrator's bridge when the
# privileged mkbridge is installed and /etc/nsbox/usernet has a rule for the
# user, else lo only (the transcript says what was skipped, why, and how to
# get the bridge). Exits 1 when a step fails, naming it, after removing what it made.
#
# The bridge is nsboxdemo0 (10.213.0.1/24), removed at the end when the demo
# made it. Traffic stays between the container and that bridge.
#
# Why a script under docs/: it is documentation that runs; the walk-through
# (docs/walkthrough.md) explains each step, and the docs tests run it
# (docs/demo_test.go).

set -u

BRIDGE=nsboxdemo0
BRIDGE_ADDR=10.213.0.1
BRIDGE_NET=10.213.0.1/24

STEP="start"
NET=""
MKB=""
W=""          # the work directory: the handle, the FIFOs, the inside script
JOB=""        # the unshare process
CPID=""       # the container's init, as the host sees it
HOSTIF=""     # the host end of the container's veth
MADE_BRIDGE=""
BRIDGE_MADE=""
PINNED=""
NETDONE=""
HOLDER=""
CLEANED=""

if [ "$(id -u)" = 0 ]; then P='host#'; else P='host$'; fi

die() {
	echo "demo: FAILED at step '$STEP': $*" >&2
	cleanup
	exit 1
}

step() {
	STEP=$1
	printf '\n== %s ==\n' "$1"
}

note() { printf '   (%s)\n' "$*"; }

# show CMD...: the command as one would type it (arguments with blanks
# or shell characters in single quotes).
show() {
	local a out=""
	for a in "$@"; do
		case $a in
		*[!A-Za-z0-9_./:=,+@%-]* | "") a="'${a//\'/\'\\\'\'}'" ;;
		esac
		out="$out${out:+ }$a"
	done
	printf '%s %s%s\n' "$P" "$out" "${SUFFIX:-}"
}

# run CMD...: print it, run it, fail the step when it fails.
run() {
	show "$@"
	"$@" 2>&1 || die "'$*' exited with status $?"
}

# cleanup: what the demo made, in reverse, quietly; used on failure and
# on interruption (the normal path tears down step by step, with output).
cleanup() {
	[ -n "$CLEANED" ] && return
	CLEANED=1
	if [ -n "$CPID" ]; then kill -KILL "$CPID" 2>/dev/null; fi
	if [ -n "$JOB" ]; then wait "$JOB" 2>/dev/null; fi
	if [ -n "$NETDONE" ] && [ "$NET" = userbridge ]; then "$MKB" -d "$HOSTIF" >/dev/null 2>&1; fi
	if [ -n "$NETDONE" ] && [ -e "$W/box/net" ]; then nsbox mkbridge -d "$W/box/net" >/dev/null 2>&1; fi
	if [ -n "$MADE_BRIDGE" ]; then nsbox mkbridge --delete-bridge -b "$BRIDGE" >/dev/null 2>&1; fi
	if [ -n "$PINNED" ]; then nsbox pin -d "$W/box" >/dev/null 2>&1; fi
	if [ -n "$W" ]; then rm -rf "$W"; fi
}
trap 'STEP="interrupted"; die "signal"' INT TERM HUP
trap cleanup EXIT

# ---- the tools ----
NSBOX=${1:-out/nsbox}
ROOTFS=${2:-out/rootfs}
[ -x "$NSBOX" ] || die "$NSBOX: no nsbox binary (make)"
[ -x "$ROOTFS/bin/sh" ] || die "$ROOTFS: no root filesystem (make rootfs)"
NSBOX=$(cd "$(dirname "$NSBOX")" && pwd)/$(basename "$NSBOX")
ROOTFS=$(cd "$ROOTFS" && pwd)

W=$(mktemp -d "${TMPDIR:-/tmp}/nsbox-demo.XXXXXX") || die "cannot make a work directory"
chmod 755 "$W"
mkdir "$W/bin" "$W/sync" || die "mkdir in $W"
ln -s "$NSBOX" "$W/bin/nsbox" || die "ln -s $NSBOX"
PATH=$W/bin:$PATH
NETNS_BEFORE=$(ls /run/netns 2>/dev/null)

echo "nsbox demo: a container from applets ($(nsbox --version 2>&1 | head -n 1); running as $(id -un), uid $(id -u))"
echo "work directory: $W (the handle $W/box, the FIFOs the container waits on)"

# ---- the maps ----
step "1. plan: what this user can have"
ME=$(id -un 2>/dev/null || id -u)
RANGE_OPTS=()
subblock() { # FILE: the caller's first block, START:COUNT
	[ -r "$1" ] && awk -F: -v n="$ME" -v u="$(id -u)" '($1 == n || $1 == u) && $3 > 0 { print $2 ":" $3; exit }' "$1"
}
SUBU=$(subblock /etc/subuid)
SUBG=$(subblock /etc/subgid)
if [ -z "$SUBU" ] || [ -z "$SUBG" ]; then
	note "user namespace: 0 is $ME; no /etc/subuid and /etc/subgid block for $ME, so no other id is mapped"
elif [ "$(id -u)" != 0 ] && ! { command -v newuidmap && command -v newgidmap; } >/dev/null 2>&1 &&
	! [ -u "$(command -v setuidmap 2>/dev/null)" ]; then
	note "user namespace: 0 is $ME; skipped the block $SUBU of /etc/subuid: no privileged helper (newuidmap/newgidmap, or nsbox's set-user-ID setuidmap: make install-setuid) to write it"
else
	RANGE_OPTS=(--map-users="1:$SUBU" --map-groups="1:$SUBG")
	note "user namespace: 0 is $ME, 1.. the /etc/subuid block $SUBU (gids: $SUBG)"
fi
# userbridge: as another user, the administrator's privileged mkbridge (make
# install-setuid or install-setcap) and a rule of /etc/nsbox/usernet that
# gives this user a port on a bridge that is up with an IPv4 address.
userbridge() {
	MKB=$(command -v mkbridge 2>/dev/null) || return 1
	[ -u "$MKB" ] || { command -v getcap >/dev/null && getcap "$MKB" 2>/dev/null | grep -q cap_net_admin; } || return 1
	[ -r /etc/nsbox/usernet ] || return 1
	local who br
	who=" $ME $(id -u) $(id -Gn 2>/dev/null | sed 's/[^ ]*/@&/g') $(id -G | sed 's/[^ ]*/@&/g') "
	for br in $(awk '!/^[ \t]*#/ && NF >= 3 { print $1, $2 }' /etc/nsbox/usernet |
		while read -r w b; do case $who in *" $w "*) echo "$b" ;; esac; done); do
		[ -d /sys/class/net/"$br"/bridge ] || continue
		UADDR=$(ip -o -4 addr show dev "$br" 2>/dev/null | awk '{ print $4; exit }')
		[ -n "$UADDR" ] && ip -o link show dev "$br" 2>/dev/null | grep -q 'state UP\|,UP' || continue
		BRIDGE=$br BRIDGE_ADDR=${UADDR%/*} BRIDGE_NET=$UADDR
		return 0
	done
	return 1
}
if [ "$(id -u)" = 0 ]; then
	NET=bridge
	note "network: eth0 on the bridge $BRIDGE ($BRIDGE_NET) by mkbridge; pins: mounts (pin)"
elif userbridge; then
	NET=userbridge
	note "network: eth0 on the administrator's bridge $BRIDGE ($BRIDGE_NET) by the privileged mkbridge $MKB, as /etc/nsbox/usernet allows $ME"
	note "pins: pin --hold (a holder process keeps the namespaces: an unprivileged user may not mount)"
else
	NET=lo
	note "network: skipped the bridge: mkbridge needs root on the host (CAP_NET_ADMIN in the host's network namespace), or the privileged mkbridge with a rule for $ME: as root, 'make install-setuid', a bridge up with an address (ip link add nsbox0 type bridge; ip addr add 10.88.0.1/16 dev nsbox0; ip link set nsbox0 up) and 'echo \"$ME nsbox0 1\" >>/etc/nsbox/usernet' (mkbridge(1), UNPRIVILEGED USERS); the container gets lo only, and pings itself"
	note "pins: pin --hold (a holder process keeps the namespaces: an unprivileged user may not mount)"
fi

# ---- the container's side, as a script it runs after pivot ----
cat >"$W/sync/inside.sh" <<'EOF'
# Runs in the container, as PID 2 under nsbox's init, after pivot.
run() {
	printf 'box# %s\n' "$*"
	"$@" 2>&1 || { echo "demo: inside the container: '$*' exited with status $?" >&2; exit 1; }
}
read -r net peer </run/demo/go || exit 1     # wait for the host: the network is there
run hostname
run id
run ps -o pid,ppid,user,comm
run ip addr
if [ "$net" = lo ]; then run ip link set lo up; fi
run ping -c 1 -W 5 "$peer"
run ls /
run ls -l /proc/self/ns
echo done >/run/demo/done
read -r stop </run/demo/stop                # wait until the host has entered too
EOF
mkfifo "$W/ready" "$W/sync/go" "$W/sync/done" "$W/sync/stop" || die "mkfifo"
# The host holds each FIFO open both ways, so that no open ever blocks and a
# container that dies early is noticed (read -t below).
exec 7<>"$W/sync/go" 8<>"$W/sync/done" 9<>"$W/sync/stop"

step "2. namespaces: unshare (the container starts, and waits on a FIFO for its network)"
UNSHARE=(nsbox unshare --user --map-root-user "${RANGE_OPTS[@]}" --uts --ipc --mount --net --cgroup --pid
	--fork --init --hostname box --ready-fd 3
	nsbox pivot --bind "$W/sync:/run/demo" "$ROOTFS" /bin/sh /run/demo/inside.sh)
SUFFIX=" 3>$W/ready &" show "${UNSHARE[@]}"
"${UNSHARE[@]}" 3>"$W/ready" 7>&- 8>&- 9>&- &
JOB=$!
printf '%s read pid < %s\n' "$P" "$W/ready"
read -r CPID <"$W/ready"
[ -n "$CPID" ] || { CPID=""; die "unshare exited before its namespaces were ready"; }
echo "pid=$CPID   (the container's init; --ready-fd wrote it once every namespace and map existed)"
run cat /proc/"$CPID"/uid_map

step "3. one handle for all of them: pin"
PINOPTS=(-U -u -i -m -n -C -p)
if [ "$NET" = bridge ]; then
	run nsbox pin -t "$CPID" "${PINOPTS[@]}" "$W/box"
else
	show nsbox pin --hold -t "$CPID" "${PINOPTS[@]}" "$W/box"
	out=$(nsbox pin --hold -t "$CPID" "${PINOPTS[@]}" "$W/box" 2>&1) || { echo "$out"; die "pin --hold failed"; }
	echo "$out"
	HOLDER=$(printf '%s\n' "$out" | sed -n 's/.* held by process \([0-9]*\).*/\1/p')
	HOLDER_START=$(awk '{ print $22 }' /proc/"$HOLDER"/stat 2>/dev/null)
fi
PINNED=1
run ls -l "$W/box"
NSLIST=$(for t in user uts ipc mnt net cgroup pid; do readlink /proc/"$CPID"/ns/$t; done)

step "4. the network, from the host: mkbridge"
if [ "$NET" = bridge ]; then
	if [ ! -e /sys/class/net/"$BRIDGE" ] && [ -n "$(ip -o -4 addr show to "$BRIDGE_NET" 2>/dev/null)" ]; then
		die "$BRIDGE_NET is in use on this host ($(ip -o -4 addr show to "$BRIDGE_NET" | awk '{print $2, $4}' | head -n 1)): the demo's bridge would clash with it"
	fi
	if [ ! -e /sys/class/net/"$BRIDGE" ]; then MADE_BRIDGE=1 BRIDGE_MADE=1; else note "$BRIDGE exists already: used as it is, and left afterwards"; fi
	show nsbox mkbridge -b "$BRIDGE" --bridge-addr "$BRIDGE_NET" "$W/box/net"
	out=$(nsbox mkbridge -b "$BRIDGE" --bridge-addr "$BRIDGE_NET" "$W/box/net" 2>&1) || { echo "$out"; die "mkbridge failed"; }
	echo "$out"
	NETDONE=1
	HOSTIF=${out%% *}
	PEER=$BRIDGE_ADDR
	run ip -br link show master "$BRIDGE"
elif [ "$NET" = userbridge ]; then
	show "$MKB" -b "$BRIDGE" "$CPID"
	out=$("$MKB" -b "$BRIDGE" "$CPID" 2>&1) || { echo "$out"; die "mkbridge failed"; }
	echo "$out"
	NETDONE=1
	HOSTIF=${out%% *}
	PEER=$BRIDGE_ADDR
	note "the host end $HOSTIF records the port as $ME's: $(ip -o link show dev "$HOSTIF" 2>/dev/null | grep -o 'altname nsbox-user[^ \\]*' | head -n 1)"
else
	note "skipped (see 1): the container keeps lo only"
	PEER=127.0.0.1
fi

step "5. what the host sees: lsns"
run nsbox lsns -p "$CPID" -o NS,TYPE,NPROCS,PID,NSFS
note "time is the host's: the demo does not unshare it"

step "6. inside the container: pivot into $ROOTFS, init as PID 1"
printf '%s echo %s %s > %s    # the container goes on\n' "$P" "$NET" "$PEER" "$W/sync/go"
echo "$NET $PEER" >&7
while ! read -r -t 1 -u 8 _; do
	kill -0 "$JOB" 2>/dev/null || {
		wait "$JOB"
		st=$?
		JOB="" CPID=""
		die "the container exited before it was done (status $st)"
	}
done

step "7. one more command, entered from the host: nsenter"
run nsbox nsenter --dir "$W/box" --preserve-credentials sh -c 'hostname; ps -o pid,ppid,user,comm'

step "8. tear-down"
printf '%s echo stop > %s; wait    # the container exits\n' "$P" "$W/sync/stop"
echo stop >&9
wait "$JOB"
st=$?
JOB="" CPID=""
[ "$st" = 0 ] || die "the container exited with status $st"
echo "the container exited (status 0); its namespaces live on in the pins"
# Every process of the container is gone once its init has been waited
# for (the kernel ends the others first). Looked for now, while the pin
# holds the pid namespace: its inode number cannot be reused meanwhile.
pidns=$(printf '%s\n' "$NSLIST" | grep '^pid:')
INPID=""
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$pidns" ] && INPID="$INPID
  process ${p#/proc/} is still in the container's pid namespace"
done
run ls "$W/box"
if [ -n "$NETDONE" ] && [ "$NET" = userbridge ]; then
	run "$MKB" -d "$HOSTIF"
	NETDONE=""
elif [ -n "$NETDONE" ]; then
	run nsbox mkbridge -d "$W/box/net"
	NETDONE=""
fi
if [ -n "$MADE_BRIDGE" ]; then
	run nsbox mkbridge --delete-bridge -b "$BRIDGE"
	MADE_BRIDGE=""
fi
run nsbox pin -d "$W/box"
PINNED=""
exec 7>&- 8>&- 9>&-
run rm -r "$W/sync" "$W/ready"

step "9. check: nothing is left"
left=""
# processes: the holder (a recycled PID has another start time); those in
# the container's pid namespace were looked for while it was still pinned
# pin -d sends it SIGKILL, which takes effect a moment later: give it up
# to 5 s to die (a zombie is dead: its descriptors are closed).
holder_alive() {
	[ -n "$HOLDER" ] && awk -v s="$HOLDER_START" '{ exit !($22 == s && $3 != "Z") }' /proc/"$HOLDER"/stat 2>/dev/null
}
n=0
while holder_alive && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
if holder_alive; then
	left="$left
  the holder $HOLDER is still running"
fi
[ -n "$INPID" ] && left="$left$INPID"
# namespaces: nothing may hold one any more. Its processes are checked
# above; pins are nsfs mounts that lsns lists (NSFS). (Inode numbers are
# not compared: the kernel reuses them for namespaces made meanwhile.)
pins=$(nsbox lsns -n -W -o NSFS 2>&1) || die "lsns failed: $pins"
printf '%s\n' "$pins" | grep -F "$W" >/dev/null && left="$left
  pins under $W: $(printf '%s\n' "$pins" | grep -F "$W" | tr '\n' ' ')"
# mounts, links, /run/netns
grep -F "$W" /proc/self/mountinfo >/dev/null && left="$left
  mounts under $W: $(grep -F "$W" /proc/self/mountinfo | awk '{print $5}' | tr '\n' ' ')"
[ -n "$HOSTIF" ] && [ -e /sys/class/net/"$HOSTIF" ] && left="$left
  the link $HOSTIF"
[ -n "$BRIDGE_MADE" ] && [ -e /sys/class/net/"$BRIDGE" ] && left="$left
  the bridge $BRIDGE"
[ "$(ls /run/netns 2>/dev/null)" = "$NETNS_BEFORE" ] || left="$left
  /run/netns changed"
rm -r "$W/bin" && rmdir "$W" || left="$left
  $W could not be removed"
if [ -n "$left" ]; then
	die "left behind:$left"
fi
W=""
echo "nothing is left: no process in the container's pid namespace$([ -n "$HOLDER" ] && echo ", no holder"), no pin (lsns), no mount under the work directory, $([ -n "$HOSTIF" ] && echo "no veth $HOSTIF, ")$([ -n "$BRIDGE_MADE" ] && echo "no bridge $BRIDGE, ")/run/netns as before; the work directory is gone."
echo "demo: OK"
