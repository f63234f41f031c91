#!/bin/sh
# boot.sh KERNEL INITRAMFS [shell]
#
# Boots the image under QEMU (software emulation: nested KVM hangs here,
# MECHANICS.md §14), serial console on standard output, no network card and
# nothing shared with the host.
#
# Without "shell": runs the walk-through, copies the console to
# $TRANSCRIPT (default out/vm/transcript.txt), and exits 0 only when the
# guest printed "WALKTHROUGH PASS" and no "STEP FAILED". The VM is killed
# after $VM_TIMEOUT seconds (default 120); the message then names the last
# step the guest started.
#
# With "shell": an interactive gosh with nsbox's applets on the path
# (Ctrl-A X quits QEMU; "poweroff" ends the VM).
set -u

kernel=$1 initrd=$2 mode=${3:-walk}
qemu=${QEMU:-qemu-system-x86_64}
append="console=ttyS0 panic=-1 quiet"

[ "$mode" = shell ] && append="$append nsbox.shell"
set -- "$qemu" -machine q35 -m 1G -smp 1 -nographic -no-reboot -nic none \
	-kernel "$kernel" -initrd "$initrd" -append "$append"
[ "$mode" = shell ] && exec "$@"

transcript=${TRANSCRIPT:-out/vm/transcript.txt}
limit=${VM_TIMEOUT:-120}
start=$(date +%s.%N)
# timeout kills QEMU (TERM, then KILL 5 s later) when the guest hangs; QEMU
# is its only child, so nothing is left behind.
timeout -k 5 "$limit" "$@" </dev/null 2>&1 | tee "$transcript"
end=$(date +%s.%N)
secs=$(echo "$end $start" | awk '{printf "%.1f", $1 - $2}')

last=$(grep -a '^STEP: ' "$transcript" | tail -n 1 | sed 's/^STEP: //')
if grep -a -q '^STEP FAILED' "$transcript"; then
	echo "vm: FAILED after ${secs}s:" >&2
	grep -a '^STEP FAILED' "$transcript" >&2
	exit 1
fi
if ! grep -a -q '^WALKTHROUGH PASS' "$transcript"; then
	echo "vm: no PASS marker after ${secs}s (timeout ${limit}s): hung or crashed in step '${last:-before the first step}'" >&2
	exit 1
fi
echo "vm: PASS in ${secs}s (boot to power-off)" >&2
