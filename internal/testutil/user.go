package testutil

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// User is an unprivileged test user that exists only inside the private
// mount namespaces RunAs creates; the host's /etc is never edited.
type User struct {
	Name string // "nsboxtest"
	UID  int    // first uid >= 52000 that is unused on the host
	GID  int    // primary group, same number as UID, group Name
	Home string // a fresh directory owned by the user, also the default working directory

	// Subordinate ranges written to /etc/subuid and /etc/subgid as
	// "Name:Start:Count": the first 65536-aligned range at or above 200000
	// that overlaps no host entry.
	SubUIDStart, SubUIDCount int
	SubGIDStart, SubGIDCount int
}

const (
	testUserName  = "nsboxtest"
	firstTestUID  = 52000
	firstSubStart = 200000
	subCount      = 65536
)

// Unprivileged returns the test user, with a new home directory for this
// test. It needs root (the test is skipped otherwise), because only root can
// run a command as it.
func Unprivileged(t testing.TB) *User {
	t.Helper()
	RequireRoot(t)
	passwd, err := readIDFile("/etc/passwd", 2)
	if err != nil {
		t.Fatalf("Unprivileged: %v", err)
	}
	group, err := readIDFile("/etc/group", 2)
	if err != nil {
		t.Fatalf("Unprivileged: %v", err)
	}
	if _, taken := passwd.names[testUserName]; taken {
		t.Fatalf("Unprivileged: user %q already exists on this host", testUserName)
	}
	if _, taken := group.names[testUserName]; taken {
		t.Fatalf("Unprivileged: group %q already exists on this host", testUserName)
	}
	u := &User{Name: testUserName, SubUIDCount: subCount, SubGIDCount: subCount}
	for id := firstTestUID; ; id++ {
		if !passwd.ids[id] && !group.ids[id] {
			u.UID, u.GID = id, id
			break
		}
	}
	u.SubUIDStart, err = freeSubRange("/etc/subuid", u.UID)
	if err != nil {
		t.Fatalf("Unprivileged: %v", err)
	}
	u.SubGIDStart, err = freeSubRange("/etc/subgid", u.GID)
	if err != nil {
		t.Fatalf("Unprivileged: %v", err)
	}
	u.Home = sharedTempDir(t)
	if err := os.Chown(u.Home, u.UID, u.GID); err != nil {
		t.Fatalf("Unprivileged: %v", err)
	}
	return u
}

func (u *User) passwdLine() string {
	return fmt.Sprintf("%s:x:%d:%d:nsbox test user:%s:/bin/sh\n", u.Name, u.UID, u.GID, u.Home)
}
func (u *User) groupLine() string { return fmt.Sprintf("%s:x:%d:\n", u.Name, u.GID) }
func (u *User) subUIDLine() string {
	return fmt.Sprintf("%s:%d:%d\n", u.Name, u.SubUIDStart, u.SubUIDCount)
}
func (u *User) subGIDLine() string {
	return fmt.Sprintf("%s:%d:%d\n", u.Name, u.SubGIDStart, u.SubGIDCount)
}

// env returns the login variables of u.
func (u *User) env() []string {
	return []string{"HOME=" + u.Home, "USER=" + u.Name, "LOGNAME=" + u.Name}
}

type idFile struct {
	names map[string]bool
	ids   map[int]bool
}

// readIDFile collects field 0 (name) and field idField of a colon-separated
// file such as /etc/passwd.
func readIDFile(path string, idField int) (idFile, error) {
	f := idFile{names: map[string]bool{}, ids: map[int]bool{}}
	fh, err := os.Open(path)
	if err != nil {
		return f, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) <= idField || strings.HasPrefix(fields[0], "#") {
			continue
		}
		f.names[fields[0]] = true
		if id, err := strconv.Atoi(fields[idField]); err == nil {
			f.ids[id] = true
		}
	}
	return f, sc.Err()
}

// freeSubRange picks the first range [start, start+subCount) at
// firstSubStart + k*subCount that overlaps no entry of a subuid/subgid file
// (missing file: none) and does not contain id.
func freeSubRange(path string, id int) (int, error) {
	type rng struct{ lo, hi int }
	var used []rng
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) != 3 {
			continue
		}
		lo, err1 := strconv.Atoi(f[1])
		n, err2 := strconv.Atoi(f[2])
		if err1 == nil && err2 == nil {
			used = append(used, rng{lo, lo + n})
		}
	}
	used = append(used, rng{id, id + 1})
	for start := firstSubStart; start < 1<<31-subCount; start += subCount {
		free := true
		for _, r := range used {
			if start < r.hi && r.lo < start+subCount {
				free = false
				break
			}
		}
		if free {
			return start, nil
		}
	}
	return 0, fmt.Errorf("%s: no free subordinate range", path)
}

// sharedTempDir is t.TempDir made traversable by every user (t.TempDir and
// its per-test parent are created 0700).
func sharedTempDir(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{d, filepath.Dir(d)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatalf("chmod %s: %v", p, err)
		}
	}
	return d
}

// etcFiles are the files RunAs replaces, and the line it appends to each.
func (u *User) etcFiles() [][2]string {
	return [][2]string{
		{"/etc/passwd", u.passwdLine()},
		{"/etc/group", u.groupLine()},
		{"/etc/subuid", u.subUIDLine()},
		{"/etc/subgid", u.subGIDLine()},
	}
}

// forceOverlay makes prepareEtc use the overlay even when every file exists
// (for testing that path).
var forceOverlay = false

// prepareEtc writes copies of the host's files with u appended into a new
// directory and returns the helper's mount plan (the overlay when force).
func prepareEtc(t testing.TB, u *User, force bool) (binds [][2]string, overlay string) {
	t.Helper()
	dir := sharedTempDir(t) // the overlay's top layer: its root must be 0755
	useOverlay := forceOverlay || force
	for _, f := range u.etcFiles() {
		host, name := f[0], filepath.Base(f[0])
		content, err := os.ReadFile(host)
		switch {
		case os.IsNotExist(err):
			useOverlay = true
		case err != nil:
			t.Fatalf("RunAs: %v", err)
		}
		if len(content) > 0 && content[len(content)-1] != '\n' {
			content = append(content, '\n')
		}
		content = append(content, f[1]...)
		copyPath := filepath.Join(dir, name)
		if err := os.WriteFile(copyPath, content, 0o644); err != nil {
			t.Fatalf("RunAs: %v", err)
		}
		if err := os.Chmod(copyPath, 0o644); err != nil { // umask
			t.Fatalf("RunAs: %v", err)
		}
		binds = append(binds, [2]string{copyPath, host})
	}
	if useOverlay {
		return nil, dir
	}
	return binds, ""
}

// userCanExec reports whether u may execute path: every directory on the
// way must be searchable and the file readable and executable by u (as
// owner, group member or other).
func userCanExec(path string, u *User) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	allowed := func(p string, need os.FileMode) bool {
		fi, err := os.Stat(p)
		if err != nil {
			return false
		}
		st, ok := statOwner(fi)
		if !ok {
			return false
		}
		mode := fi.Mode().Perm()
		switch {
		case st.uid == u.UID:
			return (mode>>6)&need == need
		case st.gid == u.GID:
			return (mode>>3)&need == need
		default:
			return mode&need == need
		}
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		if !allowed(d, 1) {
			return false
		}
		if d == "/" {
			break
		}
	}
	return allowed(abs, 5)
}

// shareExecutable returns path if u can execute it, else a copy of it in a
// directory u can reach.
func shareExecutable(t testing.TB, path string, u *User) string {
	t.Helper()
	if userCanExec(path, u) {
		return path
	}
	src, err := os.Open(path)
	if err != nil {
		t.Fatalf("RunAs: %v", err)
	}
	defer src.Close()
	dst := filepath.Join(sharedTempDir(t), filepath.Base(path))
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatalf("RunAs: %v", err)
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		t.Fatalf("RunAs: copying %s: %v", path, err)
	}
	if err := out.Close(); err != nil {
		t.Fatalf("RunAs: %v", err)
	}
	if err := os.Chmod(dst, 0o755); err != nil {
		t.Fatalf("RunAs: %v", err)
	}
	return dst
}

type owner struct{ uid, gid int }

func statOwner(fi os.FileInfo) (owner, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return owner{}, false
	}
	return owner{int(st.Uid), int(st.Gid)}, true
}
