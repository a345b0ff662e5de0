/* grade_proc.h: the grader's child processes. Each is started in a sandbox (sandbox.h) with
 * a clean environment and the descriptors it is given, and everything it prints comes back
 * through a pipe the grader holds: the grader never opens a file a child could replace.
 */
#ifndef GRADE_PROC_H
#define GRADE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sandbox.h"

typedef struct {
  const char *const *argv; /* argv[0] is a path */
  const char *cwd;
  const char *const *env;  /* its whole environment */
  nn_sandbox_limits lim;
  int uid, gid;            /* the user to become, or -1: stay */
  const char *const *landlock_read, *const *landlock_write; /* NULL: no Landlock */
  bool landlock_required;  /* fail to start where the kernel has no Landlock */
  bool separate_stderr;    /* stderr to its own pipe (a checker's), else with stdout */
  size_t keep;             /* bytes of output kept (the rest is counted, not kept) */
  int fds[2];              /* descriptors it gets as 3 and 4 (-1: none) */
} proc_spec;

typedef struct {
  pid_t pid;
  bool running;
  int status;             /* waitpid status once it ended */
  int out_fd, err_fd;     /* the grader's ends; -1 once closed */
  char *out, *err;        /* what it printed (NUL-terminated, at most keep bytes each) */
  char tail[4096];        /* the last bytes it printed to out (NUL-terminated): a crash says
                             why at the end, after whatever came first */
  size_t out_len, err_len, keep;
  size_t out_total;       /* all it printed to out, kept or not */
  double started;
  char setup_error[300];  /* why it could not start ("" if it did) */
} proc;

double proc_now(void);
/* Starts it. On failure p->setup_error says why and p->running is false. */
bool proc_start(proc *p, const proc_spec *s);
/* Reads what the running processes printed and reaps those that ended: waits at most ms. */
void proc_poll(proc *const *ps, int n, int ms);
/* SIGKILL to its whole session, then reaped. */
void proc_kill(proc *p);
void proc_free(proc *p);
/* Runs one to the end or for at most wall_s seconds; true if it ended in time. */
bool proc_run(proc *p, const proc_spec *s, double wall_s);
/* Kills whatever still runs below the grader (it is their subreaper); returns how many. */
int proc_kill_descendants(void);

/* RLIMIT_NPROC that lets uid (the grader's own user when < 0) start `extra` more processes or
 * threads than it runs now (the limit counts them all). */
long proc_nproc_limit(int uid, long extra);

/* "exited with status 3", "was killed by SIGSEGV" */
void proc_describe_status(int status, char *buf, size_t n);

#endif
