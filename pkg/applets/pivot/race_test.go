package pivot_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

// raceRuns is how many pivots TestRenameRace runs against the renamer.
const raceRuns = 1000

// The mount points pivot creates in a new root that lacks them.
var createdDirs = []string{"dev", "proc", "run", "sys", "tmp"}

// renamer swaps a and b (RENAME_EXCHANGE) in a loop on a thread of its
// own until stopped: what a user who may rename a directory on the new
// root's path can do while pivot runs. It counts the swaps.
type renamer struct {
	stop  atomic.Bool
	swaps atomic.Int64
	wg    sync.WaitGroup
	err   error
}

func startRenamer(a, b string) *renamer {
	r := &renamer{}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for !r.stop.Load() {
			if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
				r.err = err
				return
			}
			r.swaps.Add(1)
		}
	}()
	return r
}

func (r *renamer) halt() error {
	r.stop.Store(true)
	r.wg.Wait()
	return r.err
}

// raceOutcome is what one pivot under the renamer did: the root its
// program ran in ("" when none ran), the roots where a mount point was
// created, and whether the program saw every mount pivot makes.
type raceOutcome struct {
	ranIn    string
	created  []string
	complete bool
	failed   string
}

// split reports a run where something happened outside the new root
// pivot resolved first: mount points created in both roots, or in one
// and the program run in the other, or a program that does not see all
// of pivot's mounts (some were made elsewhere).
func (o raceOutcome) split() bool {
	switch {
	case len(o.created) > 1:
		return true
	case o.ranIn != "" && len(o.created) == 1 && o.created[0] != o.ranIn:
		return true
	}
	return o.ranIn != "" && !o.complete
}

// TestRenameRace: pivot resolves NEWROOT once. Two copies of the root
// filesystem, marked a and b and without the mount points pivot makes,
// sit at base/a/root and base/b/root while a renamer swaps base/a and
// base/b as fast as it can; pivot is run raceRuns times on base/a/root,
// as root in a new mount namespace. Whichever root it opened, every
// mount point must be created in that one, every mount made there and
// the program run there: 0 split runs, and no run may fail.
func TestRenameRace(t *testing.T) {
	bin, _ := setup(t)
	base := t.TempDir()
	for _, id := range []string{"a", "b"} {
		root := filepath.Join(base, id, "root")
		if err := os.Mkdir(filepath.Dir(root), 0o755); err != nil {
			t.Fatal(err)
		}
		copyTree(t, testutil.Rootfs(t), root)
		if err := os.WriteFile(filepath.Join(root, "id"), []byte(id+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		removeMountPoints(t, root)
	}
	newroot := filepath.Join(base, "a", "root")
	count := map[string]int{}
	var swaps int64
	for i := 0; i < raceRuns; i++ {
		rn := startRenamer(filepath.Join(base, "a"), filepath.Join(base, "b"))
		r := testutil.Run(t, bin, "unshare", "-m", bin, "pivot", newroot, "/bin/sh", "-c", "cat /id; cat /proc/self/mountinfo 2>/dev/null; exit 0")
		if err := rn.halt(); err != nil {
			t.Fatalf("renamer: %v", err)
		}
		swaps += rn.swaps.Load()
		o := raceOutcome{created: createdIn(t, base)}
		// The program prints the id of the root it runs in, then
		// the mounts it sees, and exits 0.
		if id, mountinfo, _ := strings.Cut(r.Stdout, "\n"); id == "a" || id == "b" {
			o.ranIn = id
			o.complete = reflect.DeepEqual(mountPoints(t, mountinfo), defaultMounts)
		}
		if r.Code != 0 {
			o.failed = r.String()
		}
		switch {
		case o.split():
			count["split"]++
			if count["split"] <= 3 {
				t.Errorf("run %d: something happened outside the new root first resolved: %+v", i, o)
			}
		case o.failed != "":
			count["failed"]++
			if count["failed"] <= 3 {
				t.Errorf("run %d failed: %s", i, o.failed)
			}
		default:
			count["ran in "+o.ranIn]++
		}
		for _, id := range []string{"a", "b"} {
			removeMountPoints(t, filepath.Join(base, id, "root"))
		}
	}
	t.Logf("%d runs against %d swaps: %d split, %d failed, %d in a, %d in b",
		raceRuns, swaps, count["split"], count["failed"], count["ran in a"], count["ran in b"])
	if count["ran in a"] == 0 || count["ran in b"] == 0 {
		t.Errorf("the renamer never raced pivot: %v", count)
	}
}

// createdIn lists the roots (by their id) in which pivot created a mount
// point.
func createdIn(t *testing.T, base string) []string {
	t.Helper()
	var ids []string
	for _, dir := range []string{"a", "b"} {
		root := filepath.Join(base, dir, "root")
		id := strings.TrimSpace(testutil.ReadFile(t, filepath.Join(root, "id")))
		for _, d := range createdDirs {
			if _, err := os.Lstat(filepath.Join(root, d)); err == nil {
				ids = append(ids, id)
				break
			}
		}
	}
	return ids
}

func removeMountPoints(t *testing.T, root string) {
	t.Helper()
	for _, d := range createdDirs {
		if err := os.RemoveAll(filepath.Join(root, d)); err != nil {
			t.Fatal(fmt.Errorf("cleaning up: %w", err))
		}
	}
}
