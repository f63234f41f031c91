#!/bin/sh
# packaging/mkdist.sh: one release archive (make dist).
#
#   packaging/mkdist.sh ARCHIVE BINARY LICENSES
#
# ARCHIVE (DIR/nsbox-VERSION-linux-ARCH.tar.gz) holds one directory named
# like it, nsbox-VERSION-linux-ARCH/, with
#
#   nsbox                          BINARY
#   man/man1/nsbox.1, man/man1/nsbox-unshare.1, man/man8/nsbox-lsns.8...
#                                  the manual pages of out/man
#   completion/nsbox.bash, completion/_nsbox, completion/nsbox.fish
#                                  the completion scripts of out/completion
#   LICENSE, README.md
#   licenses/                      the directory LICENSES: what BINARY
#                                  holds besides nsbox (licenses.sh)
#
# It is reproducible: the same inputs give the same bytes. The entries are
# in name order, owned by 0:0, with modes 0755 (nsbox, directories) or
# 0644, every time SOURCE_DATE_EPOCH (the commit's, from make), and gzip
# records no name and no time.
set -eu
archive=$1 bin=$2 licenses=$3
: "${SOURCE_DATE_EPOCH:?the time of the sources, in seconds since the epoch}"
name=$(basename "$archive" .tar.gz)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
d=$stage/$name
install -d -m 0755 "$d" "$d/completion" "$d/licenses"
install -m 0755 "$bin" "$d/nsbox"
install -m 0644 LICENSE README.md "$d/"
for p in out/man/*.[1-8]; do
	install -d -m 0755 "$d/man/man${p##*.}"
	install -m 0644 "$p" "$d/man/man${p##*.}/"
done
install -m 0644 out/completion/nsbox.bash out/completion/_nsbox out/completion/nsbox.fish "$d/completion/"
install -m 0644 "$licenses"/* "$d/licenses/"
tar --create --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
	--mtime="@$SOURCE_DATE_EPOCH" -C "$stage" "$name" | gzip -9n >"$archive.tmp"
mv "$archive.tmp" "$archive"
echo "mkdist $archive"
