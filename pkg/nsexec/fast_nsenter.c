// The fast path of nsenter (see fast.c): nsenter with -t PID and/or
// namespace options (with or without FILE), -a, -F and
// --preserve-credentials, and a program. Without a FILE, all the
// namespaces are entered at once, by one setns on a pidfd of the target,
// which the kernel carries out entirely or not at all: when it refuses, or
// anything before it fails, the Go applet runs instead and says why (its
// two passes enter some combinations the single call cannot). With a
// FILE, every file is opened first and the join stage enters them in the
// two passes, as the Go applet does. The rest is the join stage's
// (nsexec.c), as the Go applet's would be.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsexec.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

// open_ns opens a namespace file as nsfs.OpenOperand does: O_PATH first,
// which neither waits on a FIFO nor calls a device's driver, then for
// reading through /proc/self/fd. Anything but a namespace file (-1) is
// the Go applet's, which says why.
static int open_ns(const char *f)
{
	char link[32];
	int pfd = open(f, O_PATH | O_CLOEXEC), fd = -1;

	if (pfd >= 0 && nsx_is_nsfs(pfd)) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", pfd);
		fd = open(link, O_RDONLY | O_CLOEXEC);
	}
	if (pfd >= 0)
		close(pfd);
	return fd;
}

// join_files enters the namespaces of mask, each from file[i] when given,
// else from /proc/PID/ns: every file is opened first (a failure returns,
// nothing changed), then the join stage enters them in util-linux's two
// passes, as the Go applet does when a file is named.
static void join_files(int pid, long mask, const char **file, char **penv, int n, char **argv, char **envp)
{
	char join[NSX_NTYPES * 48] = "", path[64], *p = join;
	int fds[NSX_NTYPES], nfds = 0;

	for (int i = 0; i < NSX_NTYPES; i++) {
		const char *f = file[i];
		int fd;
		if (!(mask & nsx_types[i].flag))
			continue;
		if (!f) {
			if (!pid)
				goto fail; // neither a file nor a target: the Go applet says so
			snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, nsx_types[i].file);
			f = path;
		}
		if (*f == ':' || (fd = open_ns(f)) < 0)
			goto fail; // :NSID (a namespace id) is the Go applet's
		fds[nfds++] = fd;
		p += sprintf(p, "%s%ld:%d:%s", p == join ? "" : ",", nsx_types[i].flag, fd, nsx_types[i].file);
	}
	static char var[sizeof(join) + 16];
	snprintf(var, sizeof(var), PREFIX "JOIN=%s", join);
	penv[n++] = var;
	penv[n] = NULL;
	nsx_join_stage(penv, argv, envp);
fail:
	while (nfds > 0)
		close(fds[--nfds]);
}

void nsx_fast_nsenter(char **args, char **envp)
{
	int pid = 0, all = 0, nofork = 0, preserve = 0, pidfd, selfdir, files = 0;
	long mask = 0;
	char **a, path[64], fdvar[32];
	char *penv[10];
	const char *file[NSX_NTYPES] = { 0 };
	int n = 0;
	struct stat self, tgt;

	for (a = args; *a; a++) {
		const char *s = *a;
		if (s[0] != '-' || !s[1])
			break;
		if (!strcmp(s, "--")) {
			a++;
			break;
		}
		if (s[1] == '-') {
			const char *l = s + 2, *eq = strchr(l, '=');
			int t;
			if (!strcmp(l, "all"))
				all = 1;
			else if (!strcmp(l, "no-fork"))
				nofork = 1;
			else if (!strcmp(l, "preserve-credentials"))
				preserve = 1;
			else if (!strncmp(l, "target=", 7)) {
				if (pid || !(pid = nsx_parse_pid(l + 7)))
					return; // twice, or PID:INODE: the Go applet's
			} else if (!strcmp(l, "target")) {
				if (pid || !a[1] || !(pid = nsx_parse_pid(*++a)))
					return;
			} else {
				t = nsx_type(l, eq ? (size_t)(eq - l) : strlen(l), 0);
				if (t < 0 || (eq && !eq[1]))
					return;
				mask |= nsx_types[t].flag;
				file[t] = eq ? eq + 1 : NULL; // the last one given counts
			}
			continue;
		}
		for (const char *c = s + 1; *c; c++) {
			int t;
			if (*c == 'a')
				all = 1;
			else if (*c == 'F')
				nofork = 1;
			else if (*c == 't') {
				// the rest of the word, or the next one
				const char *v = c[1] ? c + 1 : *++a;
				if (pid || !v || !(pid = nsx_parse_pid(v)))
					return;
				break;
			} else if ((t = nsx_type(NULL, 0, *c)) >= 0) {
				// -nFILE: the rest of the word is the file
				mask |= nsx_types[t].flag;
				file[t] = c[1] ? c + 1 : NULL;
				break;
			} else
				return;
		}
	}
	for (int i = 0; i < NSX_NTYPES; i++)
		files |= file[i] != NULL;
	if (!*a || (!pid && !files) || (all && !pid))
		return;
	nsx_name = "nsenter";

	// --all: every type whose namespace differs from ours (the Go
	// applet's rule); a type this kernel lacks is left out.
	if (all)
		for (int i = 0; i < NSX_NTYPES; i++) {
			if (mask & nsx_types[i].flag)
				continue;
			snprintf(path, sizeof(path), "/proc/self/ns/%s", nsx_types[i].file);
			if (stat(path, &self) != 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, nsx_types[i].file);
			if (stat(path, &tgt) != 0)
				return;
			if (self.st_ino != tgt.st_ino || self.st_dev != tgt.st_dev)
				mask |= nsx_types[i].flag;
		}
	if (!mask)
		return;

	if ((mask & CLONE_NEWPID) && !nofork)
		penv[n++] = PREFIX "FORK=1";
	if ((mask & CLONE_NEWUSER) && !preserve) {
		penv[n++] = PREFIX "DROPGROUPS=1";
		penv[n++] = PREFIX "UID=0";
		penv[n++] = PREFIX "GID=0";
	}
	// /proc/self as it is now: after the join /proc may be another pid
	// namespace's (the join stage reads setgroups through it).
	selfdir = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(fdvar, sizeof(fdvar), PREFIX "SELFDIR=%d", selfdir);
	penv[n++] = fdvar;
	penv[n] = NULL;

	if (files)
		join_files(pid, mask, file, penv, n, a - 1, envp);
	else if ((pidfd = syscall(SYS_pidfd_open, pid, 0)) >= 0) {
		if (setns(pidfd, mask) == 0)
			nsx_join_stage(penv, a - 1, envp); // the pidfd is close-on-exec
		close(pidfd);
	}
	if (selfdir >= 0)
		close(selfdir);
}
