package nsenter

import "testing"

// TestUnescape: mountinfo's octal escapes, as cgroup2Mount reads the mount
// point of the cgroup v2 hierarchy.
func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"/sys/fs/cgroup":         "/sys/fs/cgroup",
		`/mnt/a\040b`:            "/mnt/a b",
		`/mnt/tab\011x\134y`:     "/mnt/tab\tx\\y",
		`/mnt/short\04`:          `/mnt/short\04`,
		`/mnt/not\999octal`:      `/mnt/not\999octal`,
		`\040`:                   " ",
		`/x\040`:                 "/x ",
		`/x\040/`:                "/x /",
		`/sys/fs/cgroup/unified`: "/sys/fs/cgroup/unified",
	} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}
