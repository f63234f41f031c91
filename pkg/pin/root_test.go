package pin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/ns"
)

// The library used directly, as unshare, nsenter or mkbridge would: needs
// root, starts its own targets.

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

func typ(name string) ns.Type {
	t, ok := ns.ByName(name)
	if !ok {
		panic(name)
	}
	return t
}

func itoa(n int) string { return strconv.Itoa(n) }

func rootSetup(t *testing.T) string {
	t.Helper()
	testutil.RequireRoot(t)
	if err := PrepareNetnsDir(); err != nil {
		t.Fatal(err)
	}
	testutil.CheckNoLeaks(t)
	return t.TempDir()
}

func sleeper(t *testing.T, argv ...string) int {
	t.Helper()
	p := testutil.Start(t, testutil.Opts{}, argv...)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if testutil.ExecComm(p.Pid()) == "sleep" {
			return p.Pid()
		}
	}
	t.Fatalf("%v: not sleeping", argv)
	return 0
}

func TestLibraryPinUnpin(t *testing.T) {
	dir := rootSetup(t)
	pid := sleeper(t, "unshare", "-n", "-u", "sleep", "60")
	f := filepath.Join(dir, "net")
	if err := Pin(pid, typ("net"), f, false); err != nil {
		t.Fatal(err)
	}
	if ok, err := IsPin(f); !ok || err != nil {
		t.Fatalf("IsPin = %v, %v", ok, err)
	}
	if k, err := Inspect(f); k != KindPin || err != nil {
		t.Errorf("Inspect = %v, %v", k, err)
	}
	if err := Pin(pid, typ("net"), f, false); !errors.Is(err, ErrAlreadyPin) {
		t.Errorf("pin onto a pin: %v", err)
	}
	if err := Unpin(f); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(f); err == nil {
		t.Errorf("Unpin left the file")
	}
	// An existing empty file is used, as util-linux users "touch" first.
	os.WriteFile(f, nil, 0o644)
	if err := Pin(pid, typ("uts"), f, false); err != nil {
		t.Fatal(err)
	}
	if err := Unpin(f); err != nil {
		t.Fatal(err)
	}

	// Pins stacked by someone else (two mounts on one file): Unpin takes
	// all of them off.
	os.WriteFile(f, nil, 0o644)
	for _, n := range []string{"net", "uts"} {
		if err := unix.Mount(fmt.Sprintf("/proc/%d/ns/%s", pid, n), f, "", unix.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := Unpin(f); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(f); err == nil {
		t.Errorf("Unpin left a stacked file")
	}
}

func TestLibraryPinDir(t *testing.T) {
	dir := rootSetup(t)
	pid := sleeper(t, "unshare", "-n", "-m", "--propagation", "private", "sleep", "60")
	h := filepath.Join(dir, "h")
	res, err := PinDir(pid, h, []ns.Type{typ("net"), typ("mnt")}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Prepared != h || res.Created != h || len(res.Pins) != 2 {
		t.Errorf("result %+v", res)
	}
	// Each pin as made: its type, its file, the namespace's inode (the
	// pin is that namespace's file).
	for i, want := range []string{"net", "mnt"} {
		p := res.Pins[i]
		var st unix.Stat_t
		if err := unix.Stat(p.Path, &st); err != nil || p.Type != typ(want) || p.Path != filepath.Join(h, want) || p.Ino != st.Ino {
			t.Errorf("pin %d: %+v, want %s in %s (stat: inode %d, %v)", i, p, want, h, st.Ino, err)
		}
	}
	if k, err := Inspect(h); k != KindDir || err != nil {
		t.Errorf("Inspect(handle) = %v, %v", k, err)
	}
	if err := UnpinDir(h); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(h); err == nil {
		t.Errorf("UnpinDir left %s", h)
	}
	// Every type of our own child, which shares our mount namespace.
	own := sleeper(t, "sleep", "60")
	res, err = PinDir(own, h, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Type != ns.Mnt || !errors.Is(res.Skipped[0].Reason, ErrOwnMount) || res.Prepared != "" {
		t.Errorf("result %+v", res)
	}
	if err := UnpinDir(h); err != nil {
		t.Fatal(err)
	}
}

func TestLibraryNetns(t *testing.T) {
	rootSetup(t)
	pid := sleeper(t, "unshare", "-n", "sleep", "60")
	name := fmt.Sprintf("nsboxlib%d", os.Getpid())
	if err := PinNetns(pid, name); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(NetnsDir, name)
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil || st.Ino != testutil.NsInode(t, pid, "net") {
		t.Errorf("%s: %v", p, err)
	}
	if err := PinNetns(pid, name); !errors.Is(err, ErrAlreadyPin) {
		t.Errorf("second PinNetns: %v", err)
	}
	if err := UnpinNetns(name); err != nil {
		t.Fatal(err)
	}
	if err := UnpinNetns(name); !errors.Is(err, unix.ENOENT) {
		t.Errorf("UnpinNetns of nothing: %v", err)
	}
	// A stale file there, empty and of mode 0 (a pin or "ip netns add"
	// killed between creating it and binding onto it): PinNetns refuses
	// it (O_EXCL, as iproute2), UnpinNetns removes it.
	os.WriteFile(p, nil, 0)
	defer os.Remove(p)
	if err := PinNetns(pid, name); !errors.Is(err, unix.EEXIST) {
		t.Errorf("PinNetns onto a stale file: %v", err)
	}
	if err := UnpinNetns(name); err != nil {
		t.Errorf("UnpinNetns of a stale file: %v", err)
	}
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Errorf("UnpinNetns left the stale file: %v", err)
	}
	// Anything else is not a pin's and is left alone: a file with data,
	// or with any permission bit.
	for _, f := range []struct {
		data string
		mode uint32
	}{{"x", 0}, {"", 0o600}, {"", 0o1000}} {
		os.Remove(p)
		os.WriteFile(p, []byte(f.data), 0)
		if err := unix.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := UnpinNetns(name); !errors.Is(err, ErrNotPin) {
			t.Errorf("UnpinNetns of a file %q mode %o: %v", f.data, f.mode, err)
		}
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("UnpinNetns removed a file %q mode %o: %v", f.data, f.mode, err)
		}
	}
}
