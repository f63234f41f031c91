#!/bin/sh
# packaging/mkdeb.sh: the Debian package (make deb), built with dpkg-deb.
#
#   packaging/mkdeb.sh DEB STAGE VERSION ARCH LICENSES
#
# STAGE is what the Makefile's deb target staged with "make install
# install-cni DESTDIR=STAGE PREFIX=/usr ...": /usr/bin/nsbox, the applet
# links in /usr/libexec/nsbox, the manual pages nsbox.1, nsbox-unshare.1...,
# the completions where Debian's shells look, /usr/lib/cni/nsbox-bridge.
# This makes a package of it as Debian's tools would: the pages
# compressed (gzip -9n), /usr/share/doc/nsbox with the copyright file and
# the licences of what the binary holds (LICENSES), DEBIAN/control and
# md5sums. It is reproducible: owner 0:0, modes 0755 and 0644, every time
# SOURCE_DATE_EPOCH, which dpkg-deb also takes for its own, one xz thread.
set -eu
deb=$1 stage=$2 version=$3 arch=$4 licenses=$5
: "${SOURCE_DATE_EPOCH:?the time of the sources, in seconds since the epoch}"
export SOURCE_DATE_EPOCH
find "$stage/usr/share/man" -type f -name '*.[1-8]' -exec gzip -9n {} +
doc=$stage/usr/share/doc/nsbox
install -d -m 0755 "$doc/licenses"
install -m 0644 README.md "$doc/"
install -m 0644 "$licenses"/* "$doc/licenses/"
cat >"$doc/copyright" <<END
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: nsbox
Source: https://github.com/nsbox/nsbox

Files: *
Copyright: the nsbox authors
License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
Comment: /usr/bin/nsbox is linked statically: the licences of what it
 holds besides nsbox (Go's standard library, Go modules, musl) are in
 /usr/share/doc/nsbox/licenses.
END
install -d -m 0755 "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<END
Package: nsbox
Version: $version
Architecture: $arch
Maintainer: ${DEB_MAINTAINER:-nsbox developers <nsbox@users.noreply.github.com>}
Installed-Size: $size
Suggests: uidmap
Section: admin
Priority: optional
Homepage: https://github.com/nsbox/nsbox
Description: build Linux containers one step at a time
 nsbox is one static binary whose applets each do one step of building a
 container: create namespaces (unshare), enter them (nsenter), keep them
 alive (pin), list them (lsns), map user ids (setuidmap), switch to a root
 filesystem (pivot), connect a network (mkbridge), with the options,
 messages and exit codes of the tools they are named after.
 .
 Run an applet as "nsbox APPLET". /usr/libexec/nsbox holds a link per
 applet, for a PATH that should find them under their own names;
 util-linux's unshare, nsenter and lsns stay in /usr/bin. The manual
 pages are nsbox(1), nsbox-unshare(1) and so on. /usr/lib/cni/nsbox-bridge
 is nsbox's CNI plugin.
END
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
find "$stage" -type d -exec chmod 0755 {} +
chmod 0644 "$doc/copyright" "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --threads-max=1 --build "$stage" "$deb.tmp" >/dev/null
mv "$deb.tmp" "$deb"
echo "mkdeb $deb"
