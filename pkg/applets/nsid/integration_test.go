package nsid

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// TestFIFO: a FIFO is not a namespace file, said at once: nsid never opens
// an operand for reading before it knows it is one (a FIFO would wait for
// a writer, a device's driver would act).
func TestFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	r := testutil.RunWith(t, testutil.Opts{Timeout: 10 * time.Second}, testutil.Binary(t), "nsid", fifo)
	testutil.Refused(t, r, 1, "nsid: "+fifo+": not a namespace file\n")
}

// TestPin: the built binary on a pin, which readlink cannot read: a new UTS
// namespace pinned by unshare --uts=FILE, identified, then released.
func TestPin(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t) // first, so that it runs after the other cleanups
	bin := testutil.Binary(t)
	pinFile := filepath.Join(t.TempDir(), "uts")
	if err := os.WriteFile(pinFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := testutil.Run(t, bin, "unshare", "--uts="+pinFile, "true"); r.Code != 0 {
		t.Fatalf("unshare --uts=%s: %s: %s", pinFile, r.Status(), r.Stderr)
	}
	t.Cleanup(func() {
		if r := testutil.Run(t, bin, "pin", "-d", pinFile); r.Code != 0 {
			t.Errorf("pin -d: %s: %s", r.Status(), r.Stderr)
		}
	})
	if _, err := os.Readlink(pinFile); err == nil {
		t.Fatalf("readlink %s worked: not the case nsid is for", pinFile)
	}
	fi, err := os.Stat(pinFile)
	if err != nil {
		t.Fatal(err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	r := testutil.Run(t, bin, "nsid", "-t", "uts", pinFile)
	if want := fmt.Sprintf("uts:[%d]\n", ino); r.Code != 0 || r.Stdout != want || r.Stderr != "" {
		t.Errorf("nsid %s: %s, stdout %q, stderr %q; want %q", pinFile, r.Status(), r.Stdout, r.Stderr, want)
	}
	if host := testutil.NsInode(t, os.Getpid(), "uts"); host == ino {
		t.Errorf("the pinned namespace is the host's (%d)", host)
	}
}
