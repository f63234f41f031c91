# Run inside the container by guest.sh (as /etc/inside.sh of its root,
# /box in the initramfs), after pivot, under nsbox's init (PID 1).
PATH=/bin:/bbin
failed=
fail() {
	echo "STEP FAILED: $1"
	failed="$failed $1"
}

echo "STEP: inside"
echo "inside: PID 1 is $(cat /proc/1/comm), hostname $(hostname)"
[ "$(cat /proc/1/comm)" = nsbox ] || fail inside-pid1
[ "$(hostname)" = box ] || fail inside-hostname
ps || fail inside-ps
cat /proc/1/cmdline
echo
ls / || fail inside-ls
cat /proc/self/uid_map
cat /proc/mounts
ip addr || fail inside-ip

echo "STEP: ping-out"
ping -c 2 -i 100 -w 5000 10.0.0.1 || fail ping-out

[ -z "$failed" ]
