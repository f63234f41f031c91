#!/bin/sh
# packaging/licenses.sh: the licences of what nsbox's binaries hold besides
# nsbox itself, for the release archives and the Debian package (make
# dist, make deb).
#
#   packaging/licenses.sh DIR [MUSL_COPYRIGHT]
#
# DIR gets one file per component, named after it: each Go module the
# multi-call binary links (go list -deps, the module's LICENSE from the
# module cache), Go's standard library and runtime (GOROOT/LICENSE) and,
# for the static build, musl (MUSL_COPYRIGHT, Debian's copyright file of
# musl). Their BSD and MIT terms ask a binary's distribution to carry
# their notices.
set -eu
dir=$1 musl=${2:-}
go=${GO:-go}
rm -rf "$dir"
mkdir -p "$dir"
"$go" list -deps -tags osusergo,netgo -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Dir}}{{end}}{{end}}' ./cmds/nsbox |
	sort -u | while read -r mod moddir; do
		lic=
		for f in LICENSE LICENSE.txt LICENSE.md COPYING; do
			[ -f "$moddir/$f" ] && { lic=$moddir/$f; break; }
		done
		[ -n "$lic" ] || { echo "licenses.sh: no licence file in $moddir ($mod)" >&2; exit 1; }
		install -m 0644 "$lic" "$dir/$(echo "$mod" | tr / _).LICENSE"
	done
install -m 0644 "$("$go" env GOROOT)/LICENSE" "$dir/go.LICENSE"
if [ -n "$musl" ]; then
	install -m 0644 "$musl" "$dir/musl.COPYRIGHT"
fi
