// The fast path of pin (see fast.c): a network namespace pinned onto a
// file or as /run/netns/NAME, and one such pin released, as pkg/pin does
// them (Batch.Do with one target, Unpin, UnpinNetns):
//
//	pin -t PID --net=FILE          (-tPID, --target PID, --target=PID; -nFILE)
//	pin -t PID --netns NAME        (--netns=NAME)
//	pin -d FILE                    (--delete; FILE a pin, not a directory handle)
//	pin -d --netns NAME
//
// Each option at most once, in any order; anything else is the Go
// applet's. The parser hands a pin or a path to release to nsexec.c's
// nsx_pin and nsx_unpin, which return to Go when they would fail before a
// change: a PID that is not there, /run/netns not a mount point yet (the
// Go applet prepares it), a FILE that cannot be created or is not an
// empty regular file, a path that is not a pin, a first unmount refused.
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nsexec.h"

#define NETNS_DIR "/run/netns" // pin.NetnsDir

void nsx_fast_pin(char **args)
{
	const char *target = NULL, *file = NULL, *netns = NULL, *operand = NULL;
	static char path[sizeof(NETNS_DIR) + 256];
	struct nsx_pin p = { .file = "net" };
	int del = 0;

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
		// pin.ValidNetnsName (iproute2's rules)
		size_t n = strlen(netns);
		if (!n || n > 255 || !strcmp(netns, ".") || !strcmp(netns, "..") || strchr(netns, '/'))
			return;
		snprintf(path, sizeof(path), NETNS_DIR "/%s", netns);
	}
	nsx_name = "pin";
	if (del) {
		if (!target && !file && !operand != !netns && nsx_unpin(operand ? operand : path) == 0)
			_exit(0);
		return;
	}
	if (!target || operand || !(p.pid = nsx_parse_pid(target)) || !file == !netns || (file && !*file))
		return;
	p.path = file ? file : path;
	p.create = file ? 1 : 2; // iproute2 takes no existing file
	p.share = netns ? NETNS_DIR : NULL;
	// The hint the applet adds to an EPERM from a pin's mount (not --netns's).
	p.hint = file ? "pins are mounts, which need privilege over this mount namespace; without it, use pin --hold -t PID DIR" : NULL;
	if (nsx_pin(&p) == 0)
		_exit(0);
}
