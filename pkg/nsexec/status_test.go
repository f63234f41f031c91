package nsexec

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestStatus(t *testing.T) {
	ino := func(file string) uint64 {
		var st unix.Stat_t
		if err := unix.Stat("/proc/self/ns/"+file, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	// The types in the table's order (user first), whatever the order of
	// the flags; pid is the namespace children get.
	b, err := Status(os.Getpid(), unix.CLONE_NEWPID|unix.CLONE_NEWNET|unix.CLONE_NEWUSER)
	want := fmt.Sprintf(`{"child-pid":%d,"user-namespace":%d,"net-namespace":%d,"pid-namespace":%d}`+"\n",
		os.Getpid(), ino("user"), ino("net"), ino("pid_for_children"))
	if err != nil || string(b) != want {
		t.Errorf("Status = %q, %v; want %q", b, err, want)
	}
	if b, err := Status(os.Getpid(), 0); err != nil || string(b) != fmt.Sprintf("{\"child-pid\":%d}\n", os.Getpid()) {
		t.Errorf("Status without namespaces = %q, %v", b, err)
	}
	_, err = Status(999999999, unix.CLONE_NEWUTS)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot stat /proc/999999999/ns/uts: ") {
		t.Errorf("Status of no process: %v", err)
	}
	for code, want := range map[int]string{0: "{\"exit-code\":0}\n", 7: "{\"exit-code\":7}\n", 143: "{\"exit-code\":143}\n"} {
		if got := string(ExitStatus(code)); got != want {
			t.Errorf("ExitStatus(%d) = %q, want %q", code, got, want)
		}
	}
}
