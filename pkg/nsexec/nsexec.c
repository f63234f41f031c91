// The pre-runtime half of nsexec: a constructor that runs before the Go
// runtime starts, while the process still has one thread, for what a
// multi-threaded Go process cannot do (unshare or join a user namespace,
// join a time namespace), and for stages that should not start the Go
// runtime a second time. It runs the stages "self", "child", "join" and
// "hold" (the others are Go's, found through pkg/reexec), never in a
// set-user-ID process: it carries out the plan the Go half put in the
// environment (plan.go, join.go) in the Go executor's order (exec.go,
// join.go) and execs the program. Keep the two in step. Without a stage
// it tries the fast path (fast*.c), whose parsers hand their plans to the
// executors here.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsexec.h"

// capget/capset's structures (linux/capability.h, which musl does not ship).
#define CAP_VERSION_3 0x20080522
struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };

#define MAXPINS 16
#define MAXNOTIFY 8
#define MAXSTACK 64 // pin's maxStack: how many pins stacked on a file nsx_unpin detaches

const char *nsx_name = "nsbox";
// The map and pin helpers of a "self" stage: nsx_die kills and reaps them.
static pid_t helpers[2] = { -1, -1 };

// nsx_errtext is strerror(errnum) as glibc spells it, which is what
// util-linux and the Go half print: musl's texts differ for some errnos.
// The list covers those that the system calls made here can return.
const char *nsx_errtext(int errnum)
{
	static const struct { int e; const char *s; } t[] = {
		{ EIO, "Input/output error" }, { ECHILD, "No child processes" }, { ENOMEM, "Cannot allocate memory" },
		{ EBUSY, "Device or resource busy" }, { EMFILE, "Too many open files" }, { ENAMETOOLONG, "File name too long" },
		{ ELOOP, "Too many levels of symbolic links" }, { EOVERFLOW, "Value too large for defined data type" },
		{ ELIBBAD, "Accessing a corrupted shared library" }, { EUSERS, "Too many users" },
		{ EOPNOTSUPP, "Operation not supported" }, { EDQUOT, "Disk quota exceeded" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == errnum)
			return t[i].s;
	return strerror(errnum);
}

void nsx_die(int code, int errnum, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	dprintf(2, "%s: %s%s%s\n", nsx_name, buf, errnum ? ": " : "", errnum ? nsx_errtext(errnum) : "");
	for (int i = 0; i < 2; i++)
		if (helpers[i] > 0 && !kill(helpers[i], SIGKILL))
			waitpid(helpers[i], NULL, 0);
	_exit(code);
}

static char *nsx_get(char **env, const char *key)
{
	size_t n = strlen(PREFIX), k = strlen(key);

	for (; *env; env++)
		if (!strncmp(*env, PREFIX, n) && !strncmp(*env + n, key, k) && (*env)[n + k] == '=')
			return *env + n + k + 1;
	return NULL;
}

static long nsx_num(char **env, const char *key, long def)
{
	char *v = nsx_get(env, key);
	return v ? strtol(v, NULL, 10) : def;
}

// must_write writes data to path in one write, or dies with msg (a
// format that names the path).
static void must_write(const char *path, const char *data, const char *msg)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), e = fd < 0 ? errno : 0;
	ssize_t len = strlen(data), n;

	if (fd >= 0) {
		n = write(fd, data, len);
		e = n < 0 ? errno : n != len ? EIO : 0;
		if (close(fd) != 0 && !e)
			e = errno;
	}
	if (e)
		nsx_die(1, e, msg, path);
}

static int nsx_wait_byte(int fd)
{
	char b;
	ssize_t n;

	while ((n = read(fd, &b, 1)) < 0 && errno == EINTR)
		;
	return n == 1;
}

int nsx_is_nsfs(int fd)
{
	struct statfs sfs;
	return fstatfs(fd, &sfs) == 0 && sfs.f_type == 0x6e736673; // NSFS_MAGIC
}

// nsx_pin carries out one pin as pkg/pin's bind does, through descriptors:
// /proc/PID/ns/FILE opened, the mount point share made shared again (pin
// --netns: /run/netns as "ip netns add" left it), path created (O_EXCL,
// mode 0; with create 1, an existing empty regular file is taken), the
// bind. Without create, path must exist (unshare --TYPE=FILE). It returns
// 0, or -1 and errno when it changed nothing; after a change it undoes it,
// reports the failure (with hint for EPERM) and exits.
int nsx_pin(const struct nsx_pin *p)
{
	char src[64], from[32], to[32];
	int nsfd, fd = -1, created = 0, e = -1;
	struct stat st;

	snprintf(src, sizeof(src), "/proc/%d/ns/%s", (int)p->pid, p->file);
	if ((nsfd = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (p->share && mount("", p->share, "none", MS_SHARED | MS_REC, NULL) != 0)
		goto out;
	if (p->create) {
		created = (fd = open(p->path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0)) >= 0;
		// pin's existing(): an empty regular file is taken as it is.
		if (!created && (errno != EEXIST || p->create != 1 || (fd = open(p->path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
				 nsx_is_nsfs(fd) || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 0))
			goto out;
		snprintf(to, sizeof(to), "/proc/self/fd/%d", fd);
	}
	snprintf(from, sizeof(from), "/proc/self/fd/%d", nsfd);
	e = mount(from, fd >= 0 ? to : p->path, NULL, MS_BIND, NULL) ? errno : 0;
	if (e && created) {
		unlink(p->path);
		if (e == EPERM && p->hint)
			nsx_die(1, 0, "mount %s on %s failed: %s (%s)", src, p->path, nsx_errtext(e), p->hint);
		nsx_die(1, e, "mount %s on %s failed", src, p->path);
	}
out:
	if (fd >= 0)
		close(fd);
	close(nsfd);
	if (e > 0)
		errno = e;
	return e ? -1 : 0;
}

// nsx_unpin releases the pin at path as pkg/pin's Unpin does: each nsfs
// mount stacked on it detached through a descriptor (exactly the mount
// checked), then the file removed. It returns -1 when path is not a pin
// or the first unmount fails (nothing changed); it reports later failures
// itself and exits.
int nsx_unpin(const char *path)
{
	char p[32];
	int fd, e;

	for (int i = 0;; i++) {
		if ((fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0 && i > 0)
			nsx_die(1, errno, "cannot open %s", path);
		if (fd < 0 || !nsx_is_nsfs(fd)) {
			close(fd);
			if (i == 0)
				return -1;
			break;
		}
		if (i == MAXSTACK) {
			close(fd);
			nsx_die(1, EBUSY, "cannot unmount %s: more than %d pins stacked", path, MAXSTACK);
		}
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		e = umount2(p, MNT_DETACH) ? errno : 0;
		close(fd);
		if (e && i == 0)
			return -1; // nothing changed: the Go applet says why
		if (e)
			nsx_die(1, e, "cannot unmount %s", path);
	}
	if (unlink(path) != 0 && errno != ENOENT)
		nsx_die(1, errno, "cannot remove %s", path);
	return 0;
}

// bind_pins makes the pins of a plan from the namespaces of pid, undoing
// them when one fails (nsexec.BindPins).
static void bind_pins(pid_t pid, struct nsx_pin *pins, int n)
{
	for (int i = 0; i < n; i++) {
		pins[i].pid = pid;
		if (nsx_pin(&pins[i]) != 0) {
			int e = errno;
			for (int j = 0; j < i; j++)
				umount2(pins[j].path, MNT_DETACH);
			nsx_die(1, e, "mount /proc/%d/ns/%s on %s failed", (int)pid, pins[i].file, pins[i].path);
		}
	}
}

// caps: with keep, every permitted capability made inheritable and
// ambient, so that a program with a non-zero uid keeps them (--keep-caps);
// without, what was raised for the stage (ambient and inheritable sets)
// cleared, so that the program gets capabilities by the usual rules.
static void caps(int keep)
{
	struct cap_header hdr = { CAP_VERSION_3, 0 };
	struct cap_data d[2];

	if (!keep)
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capget, &hdr, d) != 0) {
		if (keep)
			nsx_die(1, errno, "capget failed");
		return;
	}
	d[0].inheritable = keep ? d[0].permitted : 0;
	d[1].inheritable = keep ? d[1].permitted : 0;
	if (syscall(SYS_capset, &hdr, d) != 0 && keep)
		nsx_die(1, errno, "capset failed");
	for (int c = 0; keep && c < 64; c++)
		if ((d[c / 32].permitted & (1u << (c % 32))) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0)
			nsx_die(1, errno, "cannot raise ambient capability %d", c);
}

// nsx_initial_argv finds argv from the environment: the kernel lays out argc,
// argv[0..argc-1], NULL, envp[0..] on the initial stack, and environ still
// points there when constructors run. (glibc passes argv to constructors,
// musl does not.) Pointers are never equal to the small count k.
char **nsx_initial_argv(char **env)
{
	char **null = env - 1;

	for (long k = 0; k < 4096; k++)
		if ((long)null[-1 - k] == k)
			return null - k;
	return NULL;
}

// nsx_setgroups_denied: this process's setgroups file says "deny" (for the user
// namespace it is in now). selfdir is /proc/self opened before entering
// anything: after a mount namespace or a root is entered, /proc may be
// another PID namespace's, where /proc/self is not this process.
static int nsx_setgroups_denied(int selfdir)
{
	char buf[16] = "";
	int fd = openat(selfdir, selfdir >= 0 ? "setgroups" : "/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return !strncmp(buf, "deny", 4);
}

// nsx_lookpath finds file as execpath.LookPath does (execvp's search, in
// the PATH of env, glibc's default /bin:/usr/bin when there is none): 0 and
// the path in buf, or ENOENT or EACCES (or ENAMETOOLONG).
int nsx_lookpath(const char *file, char **env, char *buf, size_t size)
{
	const char *path = "/bin:/usr/bin";
	int first = ENOENT;

	if (strchr(file, '/'))
		return (size_t)snprintf(buf, size, "%s", file) >= size ? ENAMETOOLONG : 0;
	if (!*file)
		return ENOENT;
	for (char **e = env; *e; e++)
		if (!strncmp(*e, "PATH=", 5)) {
			path = *e + 5;
			break;
		}
	for (const char *p = path;;) {
		const char *end = strchrnul(p, ':');
		int dl = end - p;
		size_t n = dl ? (size_t)snprintf(buf, size, "%.*s/%s", dl, p, file) : (size_t)snprintf(buf, size, "./%s", file);
		if (n < size) {
			struct stat st;
			int ok = access(buf, X_OK) == 0;
			if (ok && stat(buf, &st) == 0 && S_ISREG(st.st_mode))
				return 0;
			if (ok || errno == EACCES)
				first = EACCES; // found, but not an executable file
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return first;
}

// nsx_exec_program execs path (searched in the program's PATH, as the Go
// half does) with argv and the program's environment, or dies as
// util-linux does: 127 when it does not exist, 126 otherwise.
static void __attribute__((noreturn)) nsx_exec_program(const char *path, char **argv, char **tenv)
{
	char buf[4096];
	int e = nsx_lookpath(path, tenv, buf, sizeof(buf));

	if (!e) {
		execve(buf, argv, tenv);
		e = errno;
	}
	nsx_die(e == ENOENT ? 127 : 126, e, "failed to execute %s", path);
}

// nsx_wait_end waits for pid and ends this process as pid ended: its exit
// status, or the signal that killed it, re-raised (as applet.reraise does),
// else 128+signal. With mirror, a stopped child stops this process too and
// is continued with it (util-linux nsenter's continue_as_child).
void nsx_wait_end(pid_t pid, int mirror)
{
	int st;

	for (;;) {
		if (waitpid(pid, &st, mirror ? WUNTRACED : 0) < 0) {
			if (errno != EINTR)
				nsx_die(1, errno, "waitpid failed");
		} else if (mirror && WIFSTOPPED(st)) {
			kill(getpid(), SIGSTOP);
			kill(pid, SIGCONT);
		} else
			break;
	}
	if (WIFEXITED(st))
		_exit(WEXITSTATUS(st));
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		sigset_t set;
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		kill(getpid(), sig);
		_exit(128 + sig);
	}
	_exit(1);
}

// nsx_continue_as_child forks; the parent waits, stops when the child stops,
// and ends as the child ends (util-linux nsenter). Only the child returns.
static void nsx_continue_as_child(void)
{
	pid_t child = fork();

	if (child < 0)
		nsx_die(1, errno, "fork failed");
	if (child > 0)
		nsx_wait_end(child, 1);
}

// nsx_join_stage is nsenter's: enter the namespaces whose descriptors the Go
// half opened (two passes: every one but user, errors ignored; then the
// rest, user first, errors fatal), change root and directory, fork for a
// pid namespace, set credentials, exec. Keep in step with join.go.
void nsx_join_stage(char **envp, char **argv, char **tenv)
{
	struct { long flag; int fd; char name[16]; } js[16];
	int n = 0, rootfd = nsx_num(envp, "ROOTFD", -1), wdfd = nsx_num(envp, "WDFD", -1), e = 0;
	// SELFDIR: /proc/self opened by the fast path before it entered.
	long sd = nsx_num(envp, "SELFDIR", -2);
	int selfdir = sd >= -1 ? (int)sd : open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long uid = nsx_num(envp, "UID", -1), gid = nsx_num(envp, "GID", -1);
	char *v, *wdns = nsx_get(envp, "WDNS");

	for (char *s = nsx_get(envp, "JOIN"); s && *s && n < 16; n++, s += *s == ',') {
		int used = 0;
		if (sscanf(s, "%ld:%d:%15[a-z]%n", &js[n].flag, &js[n].fd, js[n].name, &used) != 3)
			nsx_die(1, 0, "bad stage variable JOIN");
		s += used;
	}
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			if (js[i].fd < 0 || (pass == 0 && js[i].flag == CLONE_NEWUSER))
				continue;
			if (setns(js[i].fd, js[i].flag) == 0) {
				close(js[i].fd);
				js[i].fd = -1;
			} else if (pass == 1)
				nsx_die(1, errno, "reassociate to namespace 'ns/%s' failed", js[i].name);
		}
	if (rootfd >= 0 && wdfd < 0 && !wdns && (wdfd = open(".", O_RDONLY | O_CLOEXEC)) < 0)
		nsx_die(1, errno, "cannot open current working directory");
	if (rootfd >= 0) {
		if (fchdir(rootfd) != 0)
			nsx_die(1, errno, "change directory by root file descriptor failed");
		if (chroot(".") != 0)
			nsx_die(1, errno, "chroot failed");
		if (chdir("/") != 0)
			nsx_die(1, errno, "cannot change directory to /");
		close(rootfd);
	}
	// O_PATH: fchdir needs no more, and a FIFO is not waited on.
	if (wdns && (wdfd = open(wdns, O_PATH | O_CLOEXEC)) < 0)
		nsx_die(1, errno, "cannot open current working directory");
	if (wdfd >= 0) {
		if (fchdir(wdfd) != 0)
			nsx_die(1, errno, "change directory by working directory file descriptor failed");
		close(wdfd);
	}
	// -S/-G follow: the target's ids as the entered user namespace sees them.
	if ((v = nsx_get(envp, "FOLLOW"))) {
		int fd = -1, fu = 0, fg = 0;
		struct stat st;
		sscanf(v, "%d:%d:%d", &fd, &fu, &fg);
		if (fstat(fd, &st) != 0)
			nsx_die(1, errno, "can not get process stat");
		close(fd);
		if (fu)
			uid = st.st_uid;
		if (fg)
			gid = st.st_gid;
	}
	if (nsx_get(envp, "FORK"))
		nsx_continue_as_child();
	if (nsx_get(envp, "DROPGROUPS") && setgroups(0, NULL) != 0 && !((e = errno) == EPERM && nsx_setgroups_denied(selfdir)))
		nsx_die(1, e, "setgroups failed (--preserve-credentials keeps the caller's groups)");
	if (selfdir >= 0)
		close(selfdir);
	if (gid >= 0 && setgid(gid) != 0)
		nsx_die(1, errno, "setgid failed");
	if (uid >= 0 && setuid(uid) != 0)
		nsx_die(1, errno, "setuid failed");
	if (nsx_get(envp, "KEEPCAPS"))
		caps(1);
	v = nsx_get(envp, "EXEC");
	nsx_exec_program(v ? v : argv[1], argv + 1, tenv);
}

// release lets a helper go on (a byte on fd) and waits for it; one that
// failed has said why.
static void release(int fd, pid_t *pid, const char *what)
{
	int st;

	if (write(fd, "", 1) != 1)
		nsx_die(1, errno, "cannot release the %s helper", what);
	close(fd);
	while (waitpid(*pid, &st, 0) < 0 && errno == EINTR)
		;
	*pid = -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		_exit(1);
}

// link_pid_file names the written, unnamed pid file fd as pidfile.go's
// PidLink.link does: v is "DIRFD PATH", the name PATH's base name in DIRFD.
static void link_pid_file(int fd, char *v)
{
	char src[32], *path = strchr(v, ' ') + 1, *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	while (linkat(AT_FDCWD, src, atoi(v), base, AT_SYMLINK_FOLLOW) != 0)
		if (errno != EEXIST || (unlinkat(atoi(v), base, 0) != 0 && errno != ENOENT))
			nsx_die(1, errno, "cannot write %s", path);
	close(atoi(v));
}

// write_status writes unshare --json-status-fd's first object to fd and
// closes it, as nsexec.Status (status.go) does: a pid or time namespace is
// the one the program's children get, left out while the kernel names none.
static void write_status(int fd, long flags)
{
	char buf[512], path[64];
	int n = snprintf(buf, sizeof(buf), "{\"child-pid\":%d", (int)getpid());

	for (int i = 0; i < NSX_NTYPES; i++) {
		struct stat st;
		int children = nsx_types[i].flag & (CLONE_NEWPID | CLONE_NEWTIME);

		if (!(flags & nsx_types[i].flag))
			continue;
		snprintf(path, sizeof(path), "/proc/self/ns/%s%s", nsx_types[i].file, children ? "_for_children" : "");
		if (stat(path, &st) != 0) {
			if (children && errno == ENOENT)
				continue;
			nsx_die(1, errno, "cannot stat %s", path);
		}
		n += snprintf(buf + n, sizeof(buf) - n, ",\"%s-namespace\":%llu", nsx_types[i].file,
			      (unsigned long long)st.st_ino);
	}
	n += snprintf(buf + n, sizeof(buf) - n, "}\n");
	if (write(fd, buf, n) != n)
		nsx_die(1, errno, "cannot write the status to file descriptor %d", fd);
	close(fd);
}

// nsx_run_plan carries out the plan of stage "self" (unshare in place) or
// "child" (the child of --fork) that the variables of penv describe, as the
// Go executor (exec.go) would, and execs argv[1] (or EXEC) with tenv. It
// never returns.
void nsx_run_plan(int child, char **penv, char **argv, char **tenv)
{
	char **envp = penv, *v, buf[128];
	int syncfd = nsx_num(envp, "SYNC", -1), readyfd = nsx_num(envp, "READY", -1), npins = 0, nnotify = 0, selffd = -1;
	int pinpipe[2] = { -1, -1 };
	int notify[MAXNOTIFY];
	struct nsx_pin pins[MAXPINS] = { 0 };
	pid_t self = getpid();
	long flags = nsx_num(envp, "UNSHARE", 0), prop = nsx_num(envp, "PROPAGATION", 0);
	long gid = nsx_num(envp, "GID", -1), uid = nsx_num(envp, "UID", -1);
	const char *path;

	for (int used; npins < MAXPINS; npins++) {
		used = 0;
		snprintf(buf, sizeof(buf), "PIN%d", npins);
		if (!(v = nsx_get(envp, buf)))
			break;
		if (sscanf(v, "%31[^=]=%n", pins[npins].file, &used) != 1 || !used)
			nsx_die(1, 0, "bad stage variable %s", buf);
		pins[npins].path = v + used;
	}
	for (char *s = nsx_get(envp, "NOTIFY"); s && *s && nnotify < MAXNOTIFY; s += *s == ',')
		notify[nnotify++] = strtol(s, &s, 10);
	if (nsx_get(envp, "INIT") && (selffd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		nsx_die(1, errno, "cannot open /proc/self/exe");

	if ((v = nsx_get(envp, "PDEATHSIG")) && prctl(PR_SET_PDEATHSIG, atoi(v), 0, 0, 0) != 0)
		nsx_die(1, errno, "prctl failed");
	if (syncfd >= 0 && !nsx_wait_byte(syncfd))
		_exit(1); // the parent gave up and said why

	// Pins made in place are bound by a helper that stays in the original
	// namespaces (a mount or user namespace of our own could not reach
	// the host's files); it waits until the namespaces exist.
	if (npins && !child) {
		if (pipe2(pinpipe, O_CLOEXEC) != 0)
			nsx_die(1, errno, "pipe failed");
		if ((helpers[1] = fork()) < 0)
			nsx_die(1, errno, "fork failed");
		if (helpers[1] == 0) {
			close(pinpipe[1]);
			if (!nsx_wait_byte(pinpipe[0]))
				_exit(0);
			bind_pins(self, pins, npins);
			_exit(0);
		}
		close(pinpipe[0]);
	}
	helpers[0] = nsx_num(envp, "MAPHELPER", -1);

	// --owner: the user namespace belongs to this user (util-linux: after
	// the bind and map helpers are forked, which stay privileged).
	if ((v = nsx_get(envp, "OWNER"))) {
		unsigned long ou, og;
		if (sscanf(v, "%lu %lu", &ou, &og) != 2)
			nsx_die(1, 0, "bad stage variable OWNER");
		if (setgroups(0, NULL) != 0)
			nsx_die(1, errno, "setgroups failed");
		if (setgid((gid_t)og) != 0)
			nsx_die(1, errno, "setgid() failed");
		if (setuid((uid_t)ou) != 0)
			nsx_die(1, errno, "setuid() failed");
	}
	if (flags && unshare(flags) != 0)
		nsx_die(1, errno, "unshare failed");
	// Range maps are written from outside by a helper the Go half started
	// before the re-exec (unshare's "maps" stage): release it, wait for it.
	if (helpers[0] > 0)
		release(nsx_num(envp, "MAPSYNC", -1), &helpers[0], "map");
	{
		char *um = nsx_get(envp, "UIDMAP"), *gm = nsx_get(envp, "GIDMAP"), *sg = nsx_get(envp, "SETGROUPS");
		if (um && snprintf(buf, sizeof(buf), "%s 1\n", um))
			must_write("/proc/self/uid_map", buf, "write failed %s");
		if (gm || sg)
			must_write("/proc/self/setgroups", sg ? sg : "deny", "write failed %s");
		if (gm && snprintf(buf, sizeof(buf), "%s 1\n", gm))
			must_write("/proc/self/gid_map", buf, "write failed %s");
	}
	if ((v = nsx_get(envp, "TIMEOFFSETS"))) {
		long long mono = 0, boot = 0;
		sscanf(v, "%lld %lld", &mono, &boot);
		snprintf(buf, sizeof(buf), "monotonic %lld 0\nboottime %lld 0\n", mono, boot);
		must_write("/proc/self/timens_offsets", buf, "failed to write to %s");
	}
	if (prop && mount("none", "/", NULL, MS_REC | prop, NULL) != 0)
		nsx_die(1, errno, "cannot change root filesystem propagation");

	// The sync point: the parent (child stage) or the helper (in place)
	// pins the namespaces now.
	if (readyfd >= 0) {
		if (write(readyfd, "", 1) != 1)
			_exit(1);
		close(readyfd);
		if (!nsx_wait_byte(syncfd))
			_exit(1);
	}
	if (syncfd >= 0)
		close(syncfd);
	if (helpers[1] > 0)
		release(pinpipe[1], &helpers[1], "pin");
	for (int i = 0; i < nnotify; i++) {
		int n = snprintf(buf, sizeof(buf), "%d\n", getpid());
		if (write(notify[i], buf, n) != n)
			nsx_die(1, errno, "cannot write the PID to file descriptor %d", notify[i]);
		if (!i && (v = nsx_get(envp, "PIDLINK")))
			link_pid_file(notify[0], v);
		close(notify[i]);
	}
	if ((v = nsx_get(envp, "STATUS")))
		write_status(atoi(v), flags);

	if ((v = nsx_get(envp, "HOSTNAME")) && sethostname(v, strlen(v)) != 0)
		nsx_die(1, errno, "sethostname failed");
	{
		char *root = nsx_get(envp, "ROOT"), *wd = nsx_get(envp, "WD");
		if (root) {
			if (chroot(root) != 0)
				nsx_die(1, errno, "cannot change root directory to '%s'", root);
			if (!wd)
				wd = "/";
		}
		if (wd && chdir(wd) != 0)
			nsx_die(1, errno, "cannot chdir to '%s'", wd);
		if ((v = nsx_get(envp, "PROC"))) {
			if (!root && prop != MS_PRIVATE &&
			    mount("none", v, NULL, MS_PRIVATE | MS_REC, NULL) != 0 && errno != EINVAL)
				nsx_die(1, errno, "cannot change %s filesystem propagation", v);
			if (mount("proc", v, "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) != 0)
				nsx_die(1, errno, "mount %s failed", v);
		}
	}
	if ((v = nsx_get(envp, "BINFMT"))) {
		char *interp = nsx_get(envp, "INTERP");
		if (mount("binfmt_misc", v, "binfmt_misc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) != 0)
			nsx_die(1, errno, "mount %s failed", v);
		if (interp) {
			char reg[4096];
			snprintf(reg, sizeof(reg), "%s/register", v);
			must_write(reg, interp, "cannot register interpreter in %s");
		}
	}
	if (gid >= 0) {
		if (setgroups(0, NULL) != 0)
			nsx_die(1, errno, "setgroups failed");
		if (setgid(gid) != 0)
			nsx_die(1, errno, "setgid failed");
	}
	if (uid >= 0 && setuid(uid) != 0)
		nsx_die(1, errno, "setuid failed");
	if (nsx_get(envp, "KEEPCAPS") || nsx_get(envp, "CLEARAMBIENT"))
		caps(nsx_get(envp, "KEEPCAPS") != NULL);

	path = nsx_get(envp, "EXEC");
	if (!path)
		path = argv[1];
	if (!path)
		nsx_die(1, 0, "no program to execute");
	if (selffd >= 0) {
		// The minimal init is Go: exec ourselves as stage "init".
		environ = tenv;
		if (setenv(PREFIX "STAGE", "init", 1) || setenv(PREFIX "NAME", nsx_name, 1) || setenv(PREFIX "EXEC", path, 1))
			nsx_die(1, errno, "cannot execute the init stage");
		syscall(SYS_execveat, selffd, "", argv, environ, AT_EMPTY_PATH);
		nsx_die(1, errno, "cannot execute the init stage");
	}
	nsx_exec_program(path, argv + 1, tenv);
}

__attribute__((constructor)) static void nsbox_stage(void)
{
	char **argv, **envp = environ, **tenv, *v;
	char *stage = getenv(PREFIX "STAGE");

	if (!stage) {
		nsx_fast_path(envp);
		return;
	}
	if (strcmp(stage, "self") && strcmp(stage, "child") && strcmp(stage, "join") && strcmp(stage, "hold"))
		return;
	if (getauxval(AT_SECURE)) {
		dprintf(2, "nsbox: internal stage refused: the process is set-user-ID or has file capabilities\n");
		_exit(126);
	}
	// A pin holder (pkg/pin, hold.go): once its maker says (a byte on stdin)
	// that it is recorded, keep the inherited namespace descriptors open
	// until killed, without starting the Go runtime; end of file: exit.
	if (!strcmp(stage, "hold")) {
		if (read(0, &(char){ 0 }, 1) != 1 || dup2(1, 0) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	argv = nsx_initial_argv(envp);
	if (!argv || !argv[0])
		nsx_die(1, 0, "stage: cannot find argv");
	if ((v = nsx_get(envp, "NAME")))
		nsx_name = v;

	// The program's environment: ours without the stage variables.
	{
		int n = 0, i = 0;
		while (envp[n])
			n++;
		tenv = calloc(n + 1, sizeof(char *));
		if (!tenv)
			nsx_die(1, ENOMEM, "stage");
		for (char **e = envp; *e; e++)
			if (strncmp(*e, PREFIX, strlen(PREFIX)))
				tenv[i++] = *e;
	}
	if (!strcmp(stage, "join"))
		nsx_join_stage(envp, argv, tenv);
	nsx_run_plan(!strcmp(stage, "child"), envp, argv, tenv);
}
