package applet

import "testing"

func TestParsePID(t *testing.T) {
	tests := []struct {
		in   string
		pid  int
		want string // error message, "" for none
	}{
		{"1", 1, ""},
		{"4242", 4242, ""},
		{"2147483647", 2147483647, ""},
		{"0", 0, "failed to parse PID argument '0': Numerical result out of range"},
		{"-1", 0, "failed to parse PID argument '-1': Numerical result out of range"},
		{"2147483648", 0, "failed to parse PID argument '2147483648': Numerical result out of range"},
		{"99999999999", 0, "failed to parse PID argument '99999999999': Numerical result out of range"},
		{"abc", 0, "failed to parse PID argument 'abc': Invalid argument"},
		{"12abc", 0, "failed to parse PID argument '12abc': Invalid argument"},
		{"", 0, "failed to parse PID argument '': Invalid argument"},
		{" 1", 0, "failed to parse PID argument ' 1': Invalid argument"},
	}
	for _, tc := range tests {
		pid, err := ParsePID(tc.in)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg != tc.want || pid != tc.pid {
			t.Errorf("ParsePID(%q) = %d, %q; want %d, %q", tc.in, pid, msg, tc.pid, tc.want)
		}
	}
}
