package nsfs

import "testing"

// TestUnescapeOctal: mountinfo's octal escapes (nsenter reads the cgroup v2
// mount point through them).
func TestUnescapeOctalCases(t *testing.T) {
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
		if got := unescapeOctal(in); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}
