package reexec

import (
	"os"
	"testing"
)

func TestRegister(t *testing.T) {
	Register("treg", func() int { return 0 })
	panics := func(name string, run func() int) (p bool) {
		defer func() { p = recover() != nil }()
		Register(name, run)
		return false
	}
	for _, tc := range []struct {
		what string
		name string
		run  func() int
	}{
		{"a duplicate", "treg", func() int { return 1 }},
		{"no name", "", func() int { return 1 }},
		{"no function", "tnil", nil},
	} {
		if !panics(tc.name, tc.run) {
			t.Errorf("Register with %s did not panic", tc.what)
		}
	}
}

func TestDispatch(t *testing.T) {
	ran := 0
	Register("tdispatch", func() int { ran++; return 9 })
	os.Unsetenv(Marker)
	if code, ok := Dispatch(); ok || code != 0 || ran != 0 {
		t.Errorf("no marker: Dispatch = %d, %v, ran %d times; want 0, false, 0", code, ok, ran)
	}
	t.Setenv(Marker, "tdispatch")
	if Secure() {
		t.Skip("the test runs set-user-ID or with file capabilities")
	}
	if code, ok := Dispatch(); !ok || code != 9 || ran != 1 {
		t.Errorf("marker: Dispatch = %d, %v, ran %d times; want 9, true, 1", code, ok, ran)
	}
	t.Setenv(Marker, "tnosuch")
	if code, ok := Dispatch(); !ok || code != 1 || ran != 1 {
		t.Errorf("unknown stage: Dispatch = %d, %v, ran %d times; want 1, true, 1", code, ok, ran)
	}
}
