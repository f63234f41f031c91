# The walk-through run inside the VM (the image's uinit, run by u-root's
# gosh): a container built with nsbox's applets and u-root's core commands,
# nothing else. Every step prints "STEP: name" before it runs and
# "STEP FAILED: name" when it fails; the last line is "WALKTHROUGH PASS" or
# "WALKTHROUGH FAILED", then the machine powers off.
#
# Kept linear on purpose: gosh's "$!" is empty and a background job racing
# a foreground loop has crashed it (MECHANICS.md §14). So the container's
# namespaces are pinned first and everything after that is a plain
# sequence of commands.
#
# With "nsbox.shell" on the kernel command line it starts an interactive
# gosh instead, and powers off when that shell ends (make vm-shell). (Not
# u-root's own fallback shell: started by init after this script, it exits
# at once on this console.)

case "$(cat /proc/cmdline)" in
*nsbox.shell*)
	echo "nsbox.shell: no walk-through; nsbox's applets are in /bin (nsbox --list); exit or poweroff ends the VM"
	PATH=/bin:/bbin /bbin/gosh
	poweroff
	;;
esac

PATH=/bin:/bbin
failed=
step() { echo "STEP: $1"; }
fail() {
	echo "STEP FAILED: $1"
	failed="$failed $1"
}

step system
uname -r
nsbox --version || fail system
nsbox --list || fail system

step modules
modprobe -a veth bridge || fail modules
lsmod

# The container's user, UTS, IPC and network namespaces, pinned as files in
# /run/box (files that exist: util-linux's rule), so that they outlive this
# command and every later step can enter them. root in the VM is root in the new user namespace (--map-root).
step namespaces
mkdir -p /run/box || fail namespaces
touch /run/box/user /run/box/uts /run/box/ipc /run/box/net || fail namespaces
unshare --user=/run/box/user --uts=/run/box/uts --ipc=/run/box/ipc --net=/run/box/net \
	--map-root --hostname box true || fail namespaces
ls /run/box
cat /proc/mounts

step userns
nsenter --user=/run/box/user cat /proc/self/uid_map || fail userns

step lsns
lsns || fail lsns

# The bridge br0 (10.0.0.1/24) and a veth pair, the container's end created
# as eth0 inside the pinned network namespace, address 10.0.0.2/24.
step mkbridge
mkbridge -b br0 --bridge-addr 10.0.0.1/24 -a 10.0.0.2/24 /run/box/net || fail mkbridge
ip addr

step netns
nsenter --user=/run/box/user --net=/run/box/net ip addr || fail netns

step ping-in
ping -c 2 -i 100 -w 5000 10.0.0.2 || fail ping-in

# The container: new mount and pid namespaces in the pinned ones, nsbox's
# init as PID 1, and pivot into /box (a directory of the initramfs: the
# root is rootfs, pivot_root refuses it, pivot switches with MS_MOVE +
# chroot, and says so with -v), with u-root's /bbin and nsbox's /bin bound
# in. /etc/inside.sh checks PID 1, the host name, the root and the network
# from inside.
step container
nsenter --user=/run/box/user --uts=/run/box/uts --ipc=/run/box/ipc --net=/run/box/net \
	unshare -m -p -f --init \
	pivot -v --bind /bin --bind /bbin /box /bbin/gosh /etc/inside.sh || fail container

# The container is gone; its namespaces are not: enter them again.
step nsenter
nsenter --user=/run/box/user --uts=/run/box/uts --ipc=/run/box/ipc --net=/run/box/net \
	hostname || fail nsenter
nsenter --dir /run/box ip -4 addr show dev eth0 || fail nsenter

# mkbridge -d removes the veth pair (the container's end goes with it),
# --delete-bridge the bridge it made, now without ports (this kernel has no
# nftables: there is no NAT table to remove either).
step teardown
mkbridge -d /run/box/net || fail teardown
mkbridge --delete-bridge -b br0 || fail teardown
pin -d /run/box || fail teardown
ip link
cat /proc/mounts

if [ -z "$failed" ]; then
	echo "WALKTHROUGH PASS"
else
	echo "WALKTHROUGH FAILED:$failed"
fi
poweroff
