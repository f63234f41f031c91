package nsfs

import (
	"reflect"
	"testing"
)

// TestParseMountLineOptional: the optional fields and the propagation
// they say (pkg/pin decides on them).
func TestParseMountLineOptional(t *testing.T) {
	tests := []struct {
		line     string
		point    string
		optional []string
		fstype   string
		shared   bool
		err      bool
	}{
		{"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue", "/mnt2", []string{"master:1"}, "ext3", false, false},
		{"117 26 254:0 /tmp/ph /tmp/ph rw,relatime - ext4 /dev/vda rw", "/tmp/ph", []string{}, "ext4", false, false},
		{"29 1 0:26 / /run rw shared:12 master:3 - tmpfs tmpfs rw", "/run", []string{"shared:12", "master:3"}, "tmpfs", true, false},
		{`41 26 0:4 net:[4026532177] /tmp/a\040b/net rw - nsfs nsfs rw`, "/tmp/a b/net", []string{}, "nsfs", false, false},
		{"50 1 0:5 / /x rw propagate_from:2 unbindable - tmpfs none rw", "/x", []string{"propagate_from:2", "unbindable"}, "tmpfs", false, false},
		{"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root", "", nil, "", false, true}, // no separator
		{"x 35 98:0 / /m rw - ext3 /dev/root rw", "", nil, "", false, true},
		{"36 35", "", nil, "", false, true},
	}
	for _, tc := range tests {
		m, err := ParseMountLine(tc.line)
		if (err != nil) != tc.err {
			t.Errorf("ParseMountLine(%q): error %v, want error %v", tc.line, err, tc.err)
			continue
		}
		if tc.err {
			continue
		}
		if m.MountPoint != tc.point || !reflect.DeepEqual(m.Optional, tc.optional) || m.FSType != tc.fstype || m.Shared() != tc.shared {
			t.Errorf("ParseMountLine(%q) = %+v (shared %v)", tc.line, m, m.Shared())
		}
	}
}
