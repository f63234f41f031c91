#!/bin/sh
# layer.sh UROOT BASE NSBOX KVER OUT
#
# The fast layer of the VM image: onto the u-root base archive BASE (built
# once, see the Makefile's out/vm/base.cpio), add the nsbox binary NSBOX as
# /bin/nsbox with a symlink per applet, the kernel modules nsbox needs from
# /lib/modules/KVER (with their dependencies, a modules.dep filtered to
# them, and modules.builtin), the walk-through as the startup command and
# the container's root /box. No Go build happens here: it takes a fraction
# of a second (MECHANICS.md §14).
#
# MODULES (environment) names the modules to carry; their dependencies are
# added from modules.dep.
set -eu

uroot=$1 base=$2 nsbox=$3 kver=$4 out=$5
here=$(dirname "$0")
moddir=/lib/modules/$kver
modules=${MODULES:-veth bridge}

stage=$out.d
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/etc" "$stage/box/etc" "$stage$moddir"

cp "$nsbox" "$stage/bin/nsbox"
for a in $("$nsbox" --list); do
	ln -s nsbox "$stage/bin/$a"
done
cp "$here/guest.sh" "$stage/etc/guest.sh"
cp "$here/inside.sh" "$stage/box/etc/inside.sh"

[ -f "$moddir/modules.dep" ] || {
	echo "layer.sh: no $moddir/modules.dep (apt-get install linux-image-amd64)" >&2
	exit 1
}
# The modules named and everything they depend on, as paths relative to
# $moddir, from modules.dep ("path: dep dep ...").
want=
for m in $modules; do
	line=$(grep -E "/$m\.ko(\.[a-z]+)?:" "$moddir/modules.dep") || {
		echo "layer.sh: module $m not in $moddir/modules.dep" >&2
		exit 1
	}
	want="$want ${line%%:*} ${line#*:}"
done
want=$(printf '%s\n' $want | sort -u)
: >"$stage$moddir/modules.dep"
for p in $want; do
	mkdir -p "$stage$moddir/$(dirname "$p")"
	cp "$moddir/$p" "$stage$moddir/$p"
	grep -E "^$p:" "$moddir/modules.dep" >>"$stage$moddir/modules.dep"
done
cp "$moddir/modules.builtin" "$stage$moddir/modules.builtin"

# -files takes SRC:DST; every file and symbolic link of the stage, by
# its path in the image.
set --
for f in $(cd "$stage" && find . ! -type d | sed 's|^\./||' | sort); do
	set -- "$@" -files "$stage/$f:$f"
done
# u-root's log (a warning about Go versions, the size) only when it fails.
if ! "$uroot" -o "$out.tmp" -base "$base" -nocmd -initcmd= -defaultsh= \
	-uinitcmd="/bbin/gosh /etc/guest.sh" "$@" >"$out.log" 2>&1; then
	cat "$out.log" >&2
	exit 1
fi
mv "$out.tmp" "$out"
echo "layer.sh: $out: $(wc -c <"$out") bytes"
