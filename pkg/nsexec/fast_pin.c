// The fast path of pin (see fast.c): a network namespace pinned onto a
// file or as /run/netns/NAME, and one such pin released, as pkg/pin does
// them (Batch.Do with one target, Unpin, UnpinNetns), without the Go
// runtime:
//
//	pin -t PID --net=FILE          (-tPID, --target PID, --target=PID; -nFILE)
//	pin -t PID --netns NAME        (--netns=NAME)
//	pin -d FILE                    (--delete; FILE a pin, not a directory handle)
//	pin -d --netns NAME
//
// Each option at most once, in any order; anything else is the Go
// applet's. Everything that can fail before the first change returns to
// Go: a PID that is not plain digits, no /proc/PID/ns/net, /run/netns not
// a mount point yet (the Go applet prepares it), a FILE that cannot be
// created or is not an empty regular file, a path that is not a pin, a
// first unmount refused. Keep in step with pkg/pin (pin.go, mount.go,
// unpin.go) and pkg/applets/pin.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "nsexec.h"

#define NETNS_DIR NSX_NETNS_DIR
#define MAX_STACK 64            // pin's maxStack

// The hint the applet adds to an EPERM from a pin's mount (not --netns's).
#define HOLD_HINT "pins are mounts, which need privilege over this mount namespace; without it, use pin --hold -t PID DIR"

int nsx_is_nsfs(int fd)
{
	struct statfs sfs;
	return fstatfs(fd, &sfs) == 0 && sfs.f_type == NSX_NSFS_MAGIC;
}

// nsx_valid_netns_name is pin.ValidNetnsName (iproute2's rules).
int nsx_valid_netns_name(const char *s)
{
	size_t n = strlen(s);
	return n && n <= 255 && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

// pin_net binds the network namespace of pid onto path, as Batch.Do does
// with the one target --net=FILE (strict 0) or --netns NAME (strict 1,
// path NETNS_DIR/NAME): open /proc/PID/ns/net; for --netns, the mount of
// NETNS_DIR made shared (prepareNetnsDir's step after its mkdir, which
// finds the directory); create path (O_EXCL, mode 0) or, for --net=FILE,
// take an existing empty regular file; bind. It returns when nothing has
// been changed; the first change is the creation of path.
static void pin_net(long pid, const char *path, int strict)
{
	char buf[64], src[32], dst[32];
	int procfd, nsfd, fd, e, created = 1;

	snprintf(buf, sizeof(buf), "/proc/%ld", pid);
	procfd = open(buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return;
	nsfd = openat(procfd, "ns/net", O_RDONLY | O_CLOEXEC);
	close(procfd);
	if (nsfd < 0)
		return;
	// /run/netns as a previous pin or "ip netns add" left it: a mount
	// point, which this makes shared again (a no-op then). When it is
	// missing or not a mount point this fails and changes nothing: the
	// Go applet creates it, binds it onto itself, and can undo that.
	if (strict && mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) != 0) {
		close(nsfd);
		return;
	}
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0) {
		struct stat st;
		if (errno != EEXIST || strict) {
			close(nsfd);
			return; // cannot create, or the name is taken: Go says so
		}
		// pin's existing(): an empty regular file is reused.
		fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || nsx_is_nsfs(fd) || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 0) {
			if (fd >= 0)
				close(fd);
			close(nsfd);
			return;
		}
		created = 0;
	}
	snprintf(src, sizeof(src), "/proc/self/fd/%d", nsfd);
	snprintf(dst, sizeof(dst), "/proc/self/fd/%d", fd);
	if (mount(src, dst, NULL, MS_BIND, NULL) == 0)
		_exit(0);
	e = errno;
	close(fd);
	close(nsfd);
	if (!created)
		return; // nothing changed
	// The rollback, then the applet's message.
	unlink(path);
	nsx_name = "pin";
	if (e == EPERM && !strict)
		nsx_die(1, 0, "mount /proc/%ld/ns/net on %s failed: %s (" HOLD_HINT ")", pid, path, nsx_errtext(e));
	nsx_die(1, e, "mount /proc/%ld/ns/net on %s failed", pid, path);
}

// unpin releases the pin at path as Unpin does (unpinAt): detach the nsfs
// mount through a descriptor, each of those stacked on the file, then
// remove the file. It returns when path is not a pin or the first
// unmount fails (nothing changed yet).
static void unpin(const char *path)
{
	char p[32];
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	if (!nsx_is_nsfs(fd)) {
		close(fd);
		return; // not a pin, maybe a directory handle: Go's
	}
	nsx_name = "pin";
	for (int i = 0;; i++) {
		if (i > 0) {
			fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				nsx_die(1, errno, "cannot open %s", path);
			if (!nsx_is_nsfs(fd)) {
				close(fd);
				break;
			}
		}
		if (i == MAX_STACK) {
			close(fd);
			nsx_die(1, EBUSY, "cannot unmount %s: more than %d pins stacked", path, MAX_STACK);
		}
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		if (umount2(p, MNT_DETACH) != 0) {
			int e = errno;
			close(fd);
			if (i == 0)
				return; // nothing changed: Go says why
			nsx_die(1, e, "cannot unmount %s", path);
		}
		close(fd);
	}
	if (unlink(path) != 0 && errno != ENOENT)
		nsx_die(1, errno, "cannot remove %s", path);
	_exit(0);
}

void nsx_fast_pin(char **args, char **envp)
{
	const char *target = NULL, *file = NULL, *netns = NULL, *operand = NULL;
	char path[sizeof(NETNS_DIR) + 256];
	int del = 0;
	long pid = 0;

	(void)envp;
	// applet.Secure's other half (the dispatcher checked AT_SECURE): the
	// Go applet drops what the caller does not have.
	if (getuid() != geteuid() || getgid() != getegid())
		return;
	for (char **a = args; *a; a++) {
		const char *s = *a, *val, **slot;
		if (s[0] != '-' || !s[1]) {
			// The first operand ends the options (getopt's '+'): only
			// one, the last argument, is taken.
			if (a[1])
				return;
			operand = s;
			break;
		}
		if (!strcmp(s, "-d") || !strcmp(s, "--delete")) {
			if (del)
				return;
			del = 1;
			continue;
		}
		if (!strncmp(s, "-t", 2)) {
			slot = &target;
			val = s[2] ? s + 2 : *++a;
		} else if (!strcmp(s, "--target")) {
			slot = &target;
			val = *++a;
		} else if (!strncmp(s, "--target=", 9)) {
			slot = &target;
			val = s + 9;
		} else if (!strncmp(s, "--net=", 6)) {
			slot = &file;
			val = s + 6;
		} else if (!strncmp(s, "-n", 2) && s[2]) {
			slot = &file; // -nFILE: an optional argument attached
			val = s + 2;
		} else if (!strcmp(s, "--netns")) {
			slot = &netns;
			val = *++a;
		} else if (!strncmp(s, "--netns=", 8)) {
			slot = &netns;
			val = s + 8;
		} else
			return;
		if (!val || *slot)
			return; // a missing argument, or an option given twice
		*slot = val;
	}
	if (netns) {
		if (!nsx_valid_netns_name(netns))
			return;
		snprintf(path, sizeof(path), NETNS_DIR "/%s", netns);
	}
	if (del) {
		if (target || file)
			return;
		if (operand && !netns)
			unpin(operand);
		else if (netns && !operand)
			unpin(path);
		return;
	}
	if (!target || operand || !(pid = nsx_parse_pid(target)))
		return;
	if (file && !netns && *file)
		pin_net(pid, file, 0);
	else if (netns && !file)
		pin_net(pid, path, 1);
}
