#!/usr/bin/env bash
# bench/usernet.sh - a rootless container's port through the privileged
# mkbridge beside root's mkbridge for the same container, in one run.
#
#   bench/usernet.sh NSBOX
#
# A bridge (10.217.0.1/24, up, as an administrator makes it), a set-user-ID
# root copy of NSBOX in a scratch directory, a policy for an unprivileged
# bench user laid over /etc/nsbox/usernet in a private mount namespace (the
# host's /etc is never touched), and the user's rootless container
# (NSBOX unshare --map-auto -r -n). Each timed loop is K (USERNET_K, 10)
# set-up + tear-down cycles in one sh, one process per mkbridge:
#   root      NSBOX mkbridge -b BR PID; NSBOX mkbridge -d PID        (as root)
#   user      COPY/mkbridge -b BR PID; COPY/mkbridge -d PID           (as the user)
# ROUNDS (USERNET_ROUNDS, 10) rounds, the two rows alternating; figures per
# cycle, medians; then the ratio user / root and its target (at most 1.3).
# Run as root; needs setpriv (util-linux) and newuidmap (uidmap).
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NSBOX=${1:?usage: usernet.sh NSBOX}
K=${USERNET_K:-10}
ROUNDS=${USERNET_ROUNDS:-10}
die() { printf 'usernet.sh: %s\n' "$*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$NSBOX" ] || die "$NSBOX: not an executable file"
command -v setpriv >/dev/null || die "setpriv not found (util-linux)"

# The private mount namespace: everything below runs in it.
if [ -z "${USERNET_INNER:-}" ]; then
	. "$REPO/bench/lock.sh"
	exec env USERNET_INNER=1 unshare -m --propagation private "$0" "$@"
fi

W=$(mktemp -d /tmp/nsbench-usernet.XXXXXX) || die "mktemp"
chmod 755 "$W"
BR=nbu$(($$ % 100000))
UID_=${USERNET_UID:-52917}
C=""
cleanup() {
	[ -n "$C" ] && kill "$C" 2>/dev/null && wait "$C" 2>/dev/null
	ip link del "$BR" 2>/dev/null
	umount /etc 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# The bench user: a line of its own in passwd, group, subuid and subgid.
mkdir -p "$W/etc/nsbox" "$W/home"
chown "$UID_:$UID_" "$W/home"
for f in passwd group subuid subgid; do cp "/etc/$f" "$W/etc/$f" 2>/dev/null || : >"$W/etc/$f"; done
echo "nsbbench:x:$UID_:$UID_::$W/home:/bin/sh" >>"$W/etc/passwd"
echo "nsbbench:x:$UID_:" >>"$W/etc/group"
echo "nsbbench:3000000000:65536" >>"$W/etc/subuid"
echo "nsbbench:3000000000:65536" >>"$W/etc/subgid"
echo "nsbbench $BR 4" >"$W/etc/nsbox/usernet"
chmod 644 "$W/etc/nsbox/usernet" "$W/etc/passwd" "$W/etc/group" "$W/etc/subuid" "$W/etc/subgid"
mount -t overlay overlay -o "lowerdir=$W/etc:/etc" /etc || die "cannot lay the policy over /etc"

install -d -m 755 "$W/bin"
install -o root -g root -m 4755 "$NSBOX" "$W/bin/nsbox"
ln -s nsbox "$W/bin/mkbridge"

ip link add "$BR" type bridge && ip addr add 10.217.0.1/24 dev "$BR" && ip link set "$BR" up || die "bridge $BR"

AS=(setpriv --reuid "$UID_" --regid "$UID_" --clear-groups)
"${AS[@]}" "$NSBOX" unshare --map-auto -r -n sleep 3600 </dev/null >/dev/null 2>&1 &
C=$!
for _ in $(seq 1 200); do
	[ "$(readlink "/proc/$C/exe" 2>/dev/null)" != "$(readlink -f "$NSBOX")" ] && [ "$(readlink "/proc/$C/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.01
done

# One check of each, then the timed loops.
out=$("${AS[@]}" "$W/bin/mkbridge" -b "$BR" "$C" 2>&1) || die "the user's mkbridge: $out"
"${AS[@]}" "$W/bin/mkbridge" -d "${out%% *}" || die "the user's mkbridge -d"
out=$("$NSBOX" mkbridge -b "$BR" "$C" 2>&1) || die "root's mkbridge: $out"
"$NSBOX" mkbridge -d "$C" || die "root's mkbridge -d"

loop_root="i=0; while [ \$i -lt $K ]; do '$NSBOX' mkbridge -b $BR $C >/dev/null || exit 1; '$NSBOX' mkbridge -d $C || exit 1; i=\$((i+1)); done"
loop_user="i=0; while [ \$i -lt $K ]; do '$W/bin/mkbridge' -b $BR $C >/dev/null || exit 1; '$W/bin/mkbridge' -d $C || exit 1; i=\$((i+1)); done"
now() { date +%s%N; }
: >"$W/root.t"
: >"$W/user.t"
for ((r = 1; r <= ROUNDS; r++)); do
	t0=$(now); sh -c "$loop_root" || die "root's loop failed"; t1=$(now)
	"${AS[@]}" sh -c "$loop_user" || die "the user's loop failed"; t2=$(now)
	echo $(((t1 - t0) / K)) >>"$W/root.t"
	echo $(((t2 - t1) / K)) >>"$W/user.t"
done
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mr=$(med "$W/root.t")
mu=$(med "$W/user.t")
printf '# usernet: a rootless container port (set-up + tear-down), %s cycles x %s rounds, per cycle\n' "$K" "$ROUNDS"
printf '%-40s %10.3f ms\n' "root: nsbox mkbridge" "$(awk -v v="$mr" 'BEGIN { print v / 1e6 }')"
printf '%-40s %10.3f ms\n' "user: the set-user-ID mkbridge" "$(awk -v v="$mu" 'BEGIN { print v / 1e6 }')"
awk -v u="$mu" -v r="$mr" 'BEGIN { x = u / r; printf "usernet, rootless port through the helper: %.2fx root'"'"'s mkbridge (the target: at most 1.3x): %s\n", x, (x <= 1.3 ? "met" : "MISSED") }'
