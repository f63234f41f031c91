// Shared by the C half of nsexec: the stages of nsexec.c and the fast path
// of fast*.c, all run by the constructor before the Go runtime starts.
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
char *nsx_get(char **env, const char *key);
long nsx_num(char **env, const char *key, long def);
int nsx_write_file(const char *path, const char *data);
void nsx_must_write(const char *path, const char *data, const char *what);
int nsx_wait_byte(int fd);
char **nsx_initial_argv(char **env);
int nsx_setgroups_denied(int selfdir);
int nsx_lookpath(const char *file, char **env, char *buf, size_t size);
void nsx_exec_program(const char *path, char **argv, char **tenv) __attribute__((noreturn));
void nsx_wait_end(pid_t pid, int mirror) __attribute__((noreturn));
void nsx_continue_as_child(void);
void nsx_join_stage(char **penv, char **argv, char **tenv) __attribute__((noreturn));
void nsx_run_plan(int child, char **penv, char **argv, char **tenv) __attribute__((noreturn));

int nsx_parse_pid(const char *s);

#define NSX_NSFS_MAGIC 0x6e736673 // linux/magic.h, which musl does not ship
#define NSX_NETNS_DIR "/run/netns" // pin.NetnsDir, netsetup.NetnsDir

// fast_pin.c: whether fd is a namespace file; pin.ValidNetnsName.
int nsx_is_nsfs(int fd);
int nsx_valid_netns_name(const char *s);

#include "nstypes.h"

// A namespace type (fast.c's nsx_types: NSX_TYPES, pkg/ns's table).
struct nsx_type {
	char opt;                 // its option letter (unshare, nsenter)
	const char *name, *file; // its long option, its file under /proc/PID/ns
	long flag;                // its clone flag
};
extern const struct nsx_type nsx_types[NSX_NTYPES];
int nsx_type_of(char opt);

// nsx_fast_path runs the commonest forms of unshare, nsenter and pin
// without the Go runtime (fast*.c); it returns when argv is not one of them.
void nsx_fast_path(char **envp);

#endif
