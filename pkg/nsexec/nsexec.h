// Shared by the C half of nsexec: the executors of nsexec.c and the fast
// path's parsers of fast*.c, all run by the constructor before the Go
// runtime starts.
#ifndef NSBOX_NSEXEC_H
#define NSBOX_NSEXEC_H

#include <stddef.h>
#include <sys/types.h>

#define PREFIX "_NSBOX_"

extern char **environ;

// nsx_name prefixes every message: the applet's name.
extern const char *nsx_name;

const char *nsx_errtext(int errnum);
void nsx_die(int code, int errnum, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
char **nsx_initial_argv(char **env);
int nsx_lookpath(const char *file, char **env, char *buf, size_t size);
void nsx_wait_end(pid_t pid, int mirror) __attribute__((noreturn));

// The executors: nsexec's "self" and "child" plan, the "join" stage, a
// pin and its release (penv: the plan's variables; argv[1...]: the
// program's argv; tenv: its environment).
void nsx_run_plan(int child, char **penv, char **argv, char **tenv) __attribute__((noreturn));
void nsx_join_stage(char **penv, char **argv, char **tenv) __attribute__((noreturn));
struct nsx_pin {
	pid_t pid;
	char file[32];    // under /proc/PID/ns
	const char *path; // where it is bound
	int create;       // 0: path exists; 1: create it, or take an empty file; 2: create it
	const char *share; // a mount point to make shared first
	const char *hint;  // added to the message of an EPERM from the mount
};
int nsx_pin(const struct nsx_pin *p);
int nsx_unpin(const char *path);
int nsx_is_nsfs(int fd);

// The parsers' helpers (fast.c): a PID in its plain spelling; a type by
// long option (n bytes of name) or, name NULL, by option letter.
int nsx_parse_pid(const char *s);
int nsx_type(const char *name, size_t n, char opt);

#include "nstypes.h"

// A namespace type (fast.c's nsx_types: NSX_TYPES, pkg/ns's table).
struct nsx_type {
	char opt;                 // its option letter (unshare, nsenter)
	const char *name, *file; // its long option, its file under /proc/PID/ns
	long flag;                // its clone flag
};
extern const struct nsx_type nsx_types[NSX_NTYPES];

// nsx_fast_path runs the commonest forms of unshare, nsenter and pin
// without the Go runtime (fast*.c); it returns when argv is not one of
// them, or when carrying it out would fail before changing anything.
void nsx_fast_path(char **envp);
void nsx_fast_nsenter(char **args, char **envp);
void nsx_fast_pin(char **args);

#endif
