package lsns

import "testing"

func TestPathIncluded(t *testing.T) {
	for _, tc := range []struct {
		set, elt string
		want     bool
	}{
		{"/a", "/a", true},
		{"/a,/b", "/a", true},
		{"/a,/b", "/b", true},
		{"/ab,/b", "/a", false},
		{"/x/a", "/a", false},
		{"/a,/b/c", "/b", false},
	} {
		if got := pathIncluded(tc.set, tc.elt, ','); got != tc.want {
			t.Errorf("pathIncluded(%q, %q) = %v", tc.set, tc.elt, got)
		}
	}
}

func TestParsePasswd(t *testing.T) {
	names := map[uint32]string{}
	parsePasswd([]byte("root:x:0:0:root:/root:/bin/bash\n# comment\nbad line\nnobody:x:65534:65534::/:/bin/false\ntoor:x:0:0::/:/bin/sh\n+nis::::::\nlast:x:7:7::/:"), names)
	if names[0] != "root" || names[65534] != "nobody" || names[7] != "last" || len(names) != 3 {
		t.Errorf("parsePasswd = %v", names)
	}
	u := users{path: "/nonexistent"}
	if got := u.name(42); got != "42" {
		t.Errorf("unknown uid: %q", got)
	}
}
