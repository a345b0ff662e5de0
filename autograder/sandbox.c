/* sandbox.c: session and limits, Landlock for the build, seccomp for the worker (sandbox.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox.h"

static bool say(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool say(char *why, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, n, fmt, ap);
  va_end(ap);
  return false;
}

/* value 0 leaves the limit as it is (trusted tools need none). */
static bool set_limit(int resource, long value) {
  struct rlimit r = {(rlim_t)value, (rlim_t)value};
  return value == 0 || setrlimit(resource, &r) == 0;
}

bool nn_sandbox_enter(const nn_sandbox_limits *lim, int uid, int gid, char *why, size_t n) {
  if (setsid() < 0) return say(why, n, "setsid: %s", strerror(errno));
  struct rlimit no_core = {0, 0};
  if (!set_limit(lim->data_only ? RLIMIT_DATA : RLIMIT_AS, lim->mem_mb << 20) ||
      !set_limit(RLIMIT_FSIZE, lim->output_kb << 10) || setrlimit(RLIMIT_CORE, &no_core) != 0)
    return say(why, n, "setrlimit: %s", strerror(errno));
  struct rlimit cpu = {(rlim_t)lim->cpu_s, (rlim_t)lim->cpu_s + 1};
  if (lim->cpu_s > 0 && setrlimit(RLIMIT_CPU, &cpu) != 0)
    return say(why, n, "setrlimit(RLIMIT_CPU): %s", strerror(errno));
  if (uid >= 0 && (setgroups(0, NULL) != 0 || setgid((gid_t)gid) != 0 || setuid((uid_t)uid) != 0 ||
                   getuid() != (uid_t)uid || setuid(0) == 0))
    return say(why, n, "could not become uid %d: %s", uid, strerror(errno));
  /* After setuid, which counts the processes of the new user: root ignores this limit. */
  if (!set_limit(RLIMIT_NPROC, lim->nproc)) return say(why, n, "setrlimit(RLIMIT_NPROC): %s", strerror(errno));
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return say(why, n, "prctl: %s", strerror(errno));
  return true;
}

/* ---- Landlock (Linux >= 5.13). Rights added by later ABIs are added when the kernel has them. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

static uint64_t fs_rights(int abi) {
  uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */
  if (abi >= 2) all |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) all |= LANDLOCK_ACCESS_FS_TRUNCATE;
  return all;
}

static int add_dir(int ruleset, const char *path, uint64_t rights, char *why, size_t n) {
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) return 0; /* not on this machine: nothing to allow */
  struct landlock_path_beneath_attr rule = {.allowed_access = rights, .parent_fd = fd};
  /* A rule on a file (not a folder) may carry only the rights that apply to files. */
  int r = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
  if (r != 0 && errno == EINVAL) {
    rule.allowed_access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                           LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
    r = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
  }
  close(fd);
  if (r != 0) {
    say(why, n, "landlock_add_rule(%s): %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

int nn_sandbox_landlock(const char *const *read_dirs, const char *const *write_dirs, char *why, size_t n) {
  int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) return 0;
  uint64_t all = fs_rights(abi);
  uint64_t read = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  struct landlock_ruleset_attr attr = {.handled_access_fs = all};
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (ruleset < 0) {
    say(why, n, "landlock_create_ruleset: %s", strerror(errno));
    return -1;
  }
  int status = 0;
  for (const char *const *d = read_dirs; d && *d && status == 0; d++) status = add_dir(ruleset, *d, read, why, n);
  for (const char *const *d = write_dirs; d && *d && status == 0; d++) status = add_dir(ruleset, *d, all, why, n);
  if (status == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) status = -1, say(why, n, "no_new_privs: %s", strerror(errno));
  if (status == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
    status = -1, say(why, n, "landlock_restrict_self: %s", strerror(errno));
  close(ruleset);
  return status == 0 ? 1 : -1;
}

/* ---- seccomp for the worker */

/* System calls a lab never needs, refused with errno (a library that tries one gets an
 * error it can report, not a mysterious kill). Names the kernel of this architecture does
 * not have are skipped. */
static const char *const NO_FILES[] = {
    "open", "openat", "openat2", "creat", "open_by_handle_at", "name_to_handle_at", "truncate",
    "mknod", "mknodat", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat",
    "renameat2", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmodat", "fchmodat2", "chown",
    "lchown", "fchownat", "utime", "utimes", "utimensat", "futimesat", "setxattr", "lsetxattr",
    "removexattr", "lremovexattr", "memfd_create", "memfd_secret", "inotify_init", "inotify_init1",
    "fanotify_init", NULL};
static const char *const NEVER[] = {
    "execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev",
    "process_madvise", "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "kcmp", "tkill", "socket",
    "socketpair", "connect", "bind", "listen", "accept", "accept4", "unshare", "setns", "mount",
    "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsmount", "keyctl",
    "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "acct", "swapon", "swapoff", "reboot", "init_module",
    "finit_module", "delete_module", "kexec_load", "kexec_file_load", "iopl", "ioperm", "syslog",
    "vhangup", "quotactl", "personality", "mbind", "migrate_pages", "move_pages", NULL};

static int deny_list(scmp_filter_ctx ctx, const char *const *names, int err) {
  for (const char *const *s = names; *s; s++) {
    int nr = seccomp_syscall_resolve_name(*s);
    if (nr == __NR_SCMP_ERROR) continue;
    int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 0);
    if (r != 0) return r;
  }
  return 0;
}

bool nn_sandbox_worker(bool allow_files, char *why, size_t n) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return say(why, n, "seccomp_init failed");
  uint64_t self = (uint64_t)getpid();
  int r = deny_list(ctx, NEVER, EPERM);
  if (r == 0 && !allow_files) r = deny_list(ctx, NO_FILES, EACCES);
  /* Threads (OpenMP's pool) but no new process: clone without CLONE_THREAD is refused, and
   * clone3, whose flags seccomp cannot see, says "not here" so libc falls back to clone. */
  if (r == 0) r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
  if (r == 0) r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  /* Signals to itself only (abort, raise): never to the checker, the grader or a terminal. */
  if (r == 0) r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(kill), 1, SCMP_A0(SCMP_CMP_NE, self));
  if (r == 0) r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(tgkill), 1, SCMP_A0(SCMP_CMP_NE, self));
  if (r == 0) r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(rt_sigqueueinfo), 1, SCMP_A0(SCMP_CMP_NE, self));
  if (r == 0) r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(rt_tgsigqueueinfo), 1, SCMP_A0(SCMP_CMP_NE, self));
  /* Limits of other processes (prlimit64 with a pid) and keystrokes pushed into a terminal. */
  if (r == 0) r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(prlimit64), 1, SCMP_A0(SCMP_CMP_NE, 0));
  if (r == 0) r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
  if (r == 0) r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
  if (r == 0) r = seccomp_load(ctx);
  seccomp_release(ctx);
  if (r != 0) return say(why, n, "seccomp: %s", strerror(-r));
  return true;
}
