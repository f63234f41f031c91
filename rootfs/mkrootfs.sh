#!/bin/sh
# mkrootfs.sh DIR NSBOX BUSYBOX - build a small root filesystem in DIR for
# pivot (its tests and the walk-through): a static busybox with a link per
# applet where busybox installs it (bin, sbin, usr/bin, usr/sbin), nsbox
# with a link per nsbox applet in /bin (they replace busybox's own unshare,
# nsenter...), minimal /etc files, and the empty mount points pivot mounts
# on. Built beside DIR and renamed into place, so DIR is never half made.
set -eu
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
dir=$(abs "$1") nsbox=$(abs "$2") busybox=$(abs "$3")

# A dynamically linked busybox would not run in a root with no libc
# (ldd fails on a static executable).
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	echo "mkrootfs: $busybox is not a static executable (install busybox-static)" >&2
	exit 1
fi

tmp=$dir.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp"
cd "$tmp"
mkdir -p bin sbin usr/bin usr/sbin etc root home proc sys dev tmp run var/tmp mnt
chmod 1777 tmp var/tmp
chmod 0700 root

cp "$busybox" bin/busybox
chmod 0755 bin/busybox
for a in $(bin/busybox --list-full); do
	case $a in bin/busybox | linuxrc) ;; *) ln -s /bin/busybox "$a" ;; esac
done

cp "$nsbox" bin/nsbox
chmod 0755 bin/nsbox
for a in $(bin/nsbox --list); do
	rm -f bin/"$a" sbin/"$a" usr/bin/"$a" usr/sbin/"$a"
	ln -s nsbox bin/"$a"
done

cat >etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >etc/group <<'G'
root:x:0:
nogroup:x:65534:
G
cat >etc/hosts <<'H'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
H
cat >etc/profile <<'R'
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
PS1='\h:\w\$ '
R
: >etc/resolv.conf
chmod 0644 etc/passwd etc/group etc/hosts etc/profile etc/resolv.conf

cd - >/dev/null
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
