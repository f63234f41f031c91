package applet

import (
	"runtime/debug"
	"strings"
)

// Version is the nsbox release, set when the binary is linked: the
// Makefile passes -X github.com/nsbox/nsbox/pkg/applet.Version=$(VERSION).
// A plain "go build" or "go install" leaves it empty, and Release reads
// the build information instead.
var Version string

// Release is the version every --version prints (nsbox --version, each
// applet's -V): Version when the build set it, else what the go command
// recorded in the binary. It is worked out only when asked for: nothing of
// it runs at start-up.
func Release() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return versionOf(bi.Main.Version, bi.Settings)
}

// versionOf chooses the version from the main module's version (mod) and
// the build settings: a release version as "go install ...@v1.2.3"
// records it; else the commit of a build in a checkout, its first 12
// hexadecimal digits (as "git describe --abbrev=12" in the Makefile), with
// "-dirty" when the tree had changes; else a pseudo-version ("go install
// ...@main"); else "unknown". The go command also records a build in a
// checkout as a pseudo-version or a tag with "+dirty": the commit says
// more, and says it as the Makefile does.
func versionOf(mod string, settings []debug.BuildSetting) string {
	known := mod != "" && mod != "(devel)"
	if known && !strings.Contains(mod, "+") && !isPseudo(mod) {
		return mod
	}
	var rev string
	dirty := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	switch {
	case rev != "":
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
		return rev
	case known:
		return mod
	}
	return "unknown"
}

// isPseudo reports whether v is a Go pseudo-version
// (v0.0.0-20260102150405-abcdef123456, v1.2.4-0.20260102150405-abcdef123456):
// a version made up for a commit, not a release.
func isPseudo(v string) bool {
	i := strings.LastIndexByte(v, '-')
	if i < 15 || len(v)-i-1 != 12 || (v[i-15] != '-' && v[i-15] != '.') {
		return false
	}
	for _, c := range v[i-14 : i] {
		if c < '0' || c > '9' {
			return false
		}
	}
	for _, c := range v[i+1:] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
