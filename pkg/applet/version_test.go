package applet

import (
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "7b8436c9d3b2e5f1a0c4d6e8f9a1b2c3d4e5f6a7"}
	clean := debug.BuildSetting{Key: "vcs.modified", Value: "false"}
	dirty := debug.BuildSetting{Key: "vcs.modified", Value: "true"}
	tests := []struct {
		mod      string
		settings []debug.BuildSetting
		want     string
	}{
		// go install github.com/nsbox/nsbox/cmds/nsbox@v1.2.3
		{"v1.2.3", nil, "v1.2.3"},
		{"v1.2.3-rc.1", nil, "v1.2.3-rc.1"},
		// go build in a checkout: the commit, and whether it was changed
		{"(devel)", []debug.BuildSetting{rev, clean}, "7b8436c9d3b2"},
		{"(devel)", []debug.BuildSetting{rev, dirty}, "7b8436c9d3b2-dirty"},
		{"v0.0.0-20261206023500-7b8436c9d3b2+dirty", []debug.BuildSetting{rev, dirty}, "7b8436c9d3b2-dirty"},
		{"v0.0.0-20261206023500-7b8436c9d3b2", []debug.BuildSetting{rev, clean}, "7b8436c9d3b2"},
		{"v1.2.3+dirty", []debug.BuildSetting{rev, dirty}, "7b8436c9d3b2-dirty"},
		{"v1.2.3", []debug.BuildSetting{rev, clean}, "v1.2.3"},
		// go install ...@main: a pseudo-version, no VCS settings
		{"v0.0.0-20261206023500-7b8436c9d3b2", nil, "v0.0.0-20261206023500-7b8436c9d3b2"},
		{"v1.2.4-0.20261206023500-7b8436c9d3b2", nil, "v1.2.4-0.20261206023500-7b8436c9d3b2"},
		// nothing known
		{"(devel)", nil, "unknown"},
		{"", nil, "unknown"},
	}
	for _, tc := range tests {
		if got := versionOf(tc.mod, tc.settings); got != tc.want {
			t.Errorf("versionOf(%q, %v) = %q, want %q", tc.mod, tc.settings, got, tc.want)
		}
	}
}

func TestIsPseudo(t *testing.T) {
	for v, want := range map[string]bool{
		"v0.0.0-20261206023500-7b8436c9d3b2":        true,
		"v1.2.4-0.20261206023500-7b8436c9d3b2":      true,
		"v1.2.4-rc.1.0.20261206023500-7b8436c9d3b2": true,
		"v1.2.3":                             false,
		"v1.2.3-rc.1":                        false,
		"v1.2.3-20261206023500-7b8436c9d3b":  false, // 11 hex digits
		"v1.2.3-2026120602350x-7b8436c9d3b2": false,
		"v1.2.3-20261206023500-7B8436C9D3B2": false,
	} {
		if got := isPseudo(v); got != want {
			t.Errorf("isPseudo(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestRelease: the link-time Version wins over the build information.
func TestRelease(t *testing.T) {
	defer func(v string) { Version = v }(Version)
	Version = "1.2.3-test"
	if got := Release(); got != "1.2.3-test" {
		t.Errorf("Release() = %q with Version set, want it", got)
	}
	Version = ""
	if got := Release(); got == "" {
		t.Error("Release() is empty without Version")
	}
}
