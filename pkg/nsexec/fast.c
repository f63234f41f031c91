// The fast path: the commonest forms of unshare (and, in their own files,
// of nsenter and pin) parsed by the constructor before the Go runtime
// starts, their plans carried out by the executors of nsexec.c, so that
// they cost one static C start instead of a Go runtime start. The Go
// applets stay the reference: a parser takes only argument lists it
// recognises completely, and returns (the Go applet runs and says why) on
// anything else or on a failure before the first change; after it, the
// executor reports in the Go applet's words. docs/internals.md ("Where the
// start-up time goes") has the rules; _NSBOX_NOFAST=1 turns it off, as
// AT_SECURE does.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mount.h>
#include <unistd.h>

#include "nsexec.h"

// nsx_parse_pid takes a PID argument in its plain spelling only: decimal
// digits, 1 to INT32_MAX. Anything else (a sign, a range error...) gives 0,
// and the Go applet then parses and refuses it in its own words.
int nsx_parse_pid(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	return *s < '0' || *s > '9' || *end || errno || n > 2147483647L ? 0 : (int)n; // no sign, no blank
}

// The namespace types in ns.JoinOrder (user first), from pkg/ns.
const struct nsx_type nsx_types[NSX_NTYPES] = { NSX_TYPES };

// nsx_type finds a type by its long option (n bytes of name), or by its
// option letter when name is NULL: its index in nsx_types, or -1.
int nsx_type(const char *name, size_t n, char opt)
{
	for (int i = 0; i < NSX_NTYPES; i++)
		if (name ? n == strlen(nsx_types[i].name) && !strncmp(name, nsx_types[i].name, n) : nsx_types[i].opt == opt)
			return i;
	return -1;
}

// unshare's other long options that the fast path takes, exactly as
// written (an abbreviation goes to Go), and the short option each equals.
static const struct { const char *name; char opt; } unshare_long[] = {
	{ "fork", 'f' }, { "map-root-user", 'r' }, { "map-current-user", 'c' }, { "mount-proc", 'P' },
};

// fast_unshare: unshare [-muinpUCTfrc | --mount ... --map-current-user |
// --mount-proc | --TYPE=FILE]... [--] PROGRAM [ARGS...], as
// pkg/applets/unshare does it: without --fork the plan of the "self" stage
// (whose helper binds the pins from the original namespaces); with it,
// util-linux's way (unshare here, fork, the rest in the child, wait), pins
// aside.
static void fast_unshare(char **args, char **envp)
{
	long flags = 0, pinned = 0;
	int fork_ = 0, maproot = 0, mapcur = 0, proc = 0, n = 0, npins = 0;
	char **a, buf[4096], unsh[64], um[64], gm[64], prop[64];
	char *penv[8 + NSX_NTYPES];
	const char *pin[NSX_NTYPES] = { 0 }; // "=FILE" by type, bound in this (util-linux's) order

	for (a = args; *a; a++) {
		const char *s = *a, *opts = s + 1, *eq;
		char one[2] = { 0, 0 };
		if (s[0] != '-' || !s[1])
			break;
		if (!strcmp(s, "--")) {
			a++;
			break;
		}
		if (s[1] == '-') {
			int t = nsx_type(s + 2, (eq = strchr(s, '=')) ? (size_t)(eq - s - 2) : strlen(s + 2), 0);
			if (eq) {
				// --TYPE=FILE: a pin (each type once, a file named)
				// (pid and time pins need --fork: the Go applet's)
				if (t < 0 || (nsx_types[t].flag & (CLONE_NEWPID | CLONE_NEWTIME)) || !eq[1] || (pinned & nsx_types[t].flag))
					return;
				pinned |= nsx_types[t].flag;
				pin[t] = eq;
				continue;
			}
			one[0] = t >= 0 ? nsx_types[t].opt : 0;
			for (size_t i = 0; i < sizeof(unshare_long) / sizeof(unshare_long[0]); i++)
				if (!strcmp(s + 2, unshare_long[i].name))
					one[0] = unshare_long[i].opt;
			if (!one[0])
				return;
			opts = one;
		}
		for (const char *c = opts; *c; c++)
			switch (*c) {
			case 'f': fork_ = 1; break;
			case 'r': maproot = 1; break;
			case 'c': mapcur = 1; break;
			case 'P':
				if (opts != one)
					return; // -P is not an unshare option
				proc = 1;
				break;
			default: {
				int t = nsx_type(NULL, 0, *c);
				if (t < 0)
					return;
				flags |= nsx_types[t].flag;
			}
			}
	}
	// The shell, both maps, pins with --fork, a type both pinned and not
	// (the last option wins in Go): the Go applet's.
	if (!*a || (maproot && mapcur) || (pinned && fork_) || (flags & pinned))
		return;
	flags |= pinned;
	for (int t = 0; t < NSX_NTYPES; t++)
		if (pin[t] && asprintf(&penv[n++], PREFIX "PIN%d=%s%s", npins++, nsx_types[t].file, pin[t]) < 0)
			return;
	if (nsx_lookpath(*a, envp, buf, sizeof(buf)))
		return; // the Go applet says why
	nsx_name = "unshare";

	if (proc)
		flags |= CLONE_NEWNS;
	if (maproot || mapcur) {
		unsigned u = geteuid(), g = getegid();
		flags |= CLONE_NEWUSER;
		snprintf(um, sizeof(um), PREFIX "UIDMAP=%u %u", maproot ? 0 : u, u);
		snprintf(gm, sizeof(gm), PREFIX "GIDMAP=%u %u", maproot ? 0 : g, g);
		penv[n++] = um;
		penv[n++] = gm;
	}
	if (flags & CLONE_NEWNS) {
		snprintf(prop, sizeof(prop), PREFIX "PROPAGATION=%ld", (long)MS_PRIVATE);
		penv[n++] = prop;
	}
	if (proc)
		penv[n++] = PREFIX "PROC=/proc";
	if (!fork_ && flags && snprintf(unsh, sizeof(unsh), PREFIX "UNSHARE=%ld", flags))
		penv[n++] = unsh;
	penv[n] = NULL;
	if (!fork_)
		nsx_run_plan(0, penv, a - 1, envp);

	// --fork: SIGINT and SIGTERM are blocked here while the child runs
	// (util-linux); the child gets the caller's mask back.
	sigset_t block, old;
	pid_t pid;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (flags && unshare(flags) != 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return; // nothing changed: the Go applet reports it
	}
	pid = fork();
	if (pid < 0)
		nsx_die(1, errno, "fork failed");
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		nsx_run_plan(0, penv, a - 1, envp);
	}
	nsx_wait_end(pid, 0);
}

void nsx_fast_path(char **envp)
{
	char **argv;
	const char *n;

	if (getauxval(AT_SECURE) || getenv(PREFIX "NOFAST"))
		return;
	argv = nsx_initial_argv(envp);
	if (!argv || !argv[0])
		return;
	// The applet, as applet.Main finds it: basename(argv[0]) without a
	// leading '-', or argv[1] when that is nsbox itself.
	n = basename(argv[0]);
	if (*n == '-')
		n++;
	argv++;
	if (!strncmp(n, "nsbox", 5)) {
		if (!argv[0] || argv[0][0] == '-')
			return;
		n = basename(argv[0]);
		argv++;
	}
	if (!strcmp(n, "unshare"))
		fast_unshare(argv, envp);
	else if (!strcmp(n, "nsenter"))
		nsx_fast_nsenter(argv, envp);
	else if (!strcmp(n, "pin"))
		nsx_fast_pin(argv);
}
