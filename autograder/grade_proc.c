/* grade_proc.c: start, watch and stop the grader's children (grade_proc.h). */
#define _GNU_SOURCE
/* Messages are cut to fit their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grade_proc.h"

double proc_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void proc_describe_status(int status, char *buf, size_t n) {
  if (WIFEXITED(status))
    snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status)) {
    const char *abbrev = sigabbrev_np(WTERMSIG(status));
    if (abbrev)
      snprintf(buf, n, "was killed by SIG%s", abbrev);
    else
      snprintf(buf, n, "was killed by signal %d", WTERMSIG(status));
  } else
    snprintf(buf, n, "ended (status %#x)", status);
}

/* In the child: its descriptors, folder, sandbox; then exec. Never returns. */
static void child(const proc_spec *s, int out_w, int err_w) {
  int devnull = open("/dev/null", O_RDONLY);
  /* Descriptors 3 and 4 first, out of the way of the ones dup2 is about to fill. */
  int want[2] = {s->fds[0] >= 0 ? fcntl(s->fds[0], F_DUPFD_CLOEXEC, 10) : -1,
                 s->fds[1] >= 0 ? fcntl(s->fds[1], F_DUPFD_CLOEXEC, 10) : -1};
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w >= 0 ? err_w : out_w, 2) < 0)
    _exit(126);
  for (int k = 0; k < 2; k++)
    if (want[k] >= 0 && dup2(want[k], 3 + k) < 0) _exit(126);
  for (int fd = 5; fd < 1024; fd++) close(fd); /* nothing of the grader's leaks in */
  char why[300];
  if (s->cwd && chdir(s->cwd) != 0) {
    dprintf(2, "nn-grade: cannot enter %s: %s\n", s->cwd, strerror(errno));
    _exit(126);
  }
  if (!nn_sandbox_enter(&s->lim, s->uid, s->gid, why, sizeof why)) {
    dprintf(2, "nn-grade: sandbox: %s\n", why);
    _exit(126);
  }
  if (s->landlock_read) {
    int r = nn_sandbox_landlock(s->landlock_read, s->landlock_write, why, sizeof why);
    if (r < 0 || (r == 0 && s->landlock_required)) {
      dprintf(2, "nn-grade: sandbox: %s\n", r < 0 ? why : "this kernel has no Landlock");
      _exit(126);
    }
  }
  execve(s->argv[0], (char *const *)s->argv, (char *const *)s->env);
  dprintf(2, "nn-grade: cannot run %s: %s\n", s->argv[0], strerror(errno));
  _exit(127);
}

bool proc_start(proc *p, const proc_spec *s) {
  memset(p, 0, sizeof *p);
  p->out_fd = p->err_fd = -1;
  p->keep = s->keep;
  p->out = calloc(s->keep + 1, 1);
  p->err = calloc(s->keep + 1, 1);
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (!p->out || !p->err || pipe2(out, O_CLOEXEC) != 0 || (s->separate_stderr && pipe2(err, O_CLOEXEC) != 0)) {
    snprintf(p->setup_error, sizeof p->setup_error, "no pipe: %s", strerror(errno));
    return false;
  }
  p->started = proc_now();
  p->pid = fork();
  if (p->pid == 0) child(s, out[1], err[1]);
  close(out[1]);
  if (err[1] >= 0) close(err[1]);
  p->out_fd = out[0], p->err_fd = err[0];
  if (p->pid < 0) {
    snprintf(p->setup_error, sizeof p->setup_error, "fork: %s", strerror(errno));
    return false;
  }
  p->running = true;
  return true;
}

/* The last sizeof tail - 1 bytes of everything written to it. */
static void keep_tail(char *tail, size_t size, const char *chunk, size_t n) {
  size_t have = strlen(tail), room = size - 1;
  if (n >= room) {
    memcpy(tail, chunk + n - room, room);
  } else {
    size_t drop = have + n > room ? have + n - room : 0;
    memmove(tail, tail + drop, have - drop);
    memcpy(tail + have - drop, chunk, n);
    have = have - drop + n;
    tail[have] = '\0';
    return;
  }
  tail[room] = '\0';
}

/* What is ready on fd goes to buf (at most keep bytes kept) and, when tail is given, to its
 * tail; false at EOF. NUL bytes become spaces: the output is read as one C string. */
static bool drain(int fd, char *buf, size_t *len, size_t keep, size_t *total, char *tail, size_t tail_size) {
  char chunk[1 << 15];
  ssize_t n = read(fd, chunk, sizeof chunk);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  for (ssize_t i = 0; i < n; i++)
    if (chunk[i] == '\0') chunk[i] = ' ';
  size_t room = keep - *len, take = (size_t)n < room ? (size_t)n : room;
  memcpy(buf + *len, chunk, take);
  *len += take;
  buf[*len] = '\0';
  if (total) *total += (size_t)n;
  if (tail) keep_tail(tail, tail_size, chunk, (size_t)n);
  return true;
}

void proc_poll(proc *const *ps, int n, int ms) {
  struct pollfd fds[16];
  proc *owner[16];
  bool is_err[16];
  int k = 0;
  for (int i = 0; i < n && k < 15; i++) {
    if (ps[i]->out_fd >= 0) fds[k] = (struct pollfd){ps[i]->out_fd, POLLIN, 0}, owner[k] = ps[i], is_err[k++] = false;
    if (ps[i]->err_fd >= 0) fds[k] = (struct pollfd){ps[i]->err_fd, POLLIN, 0}, owner[k] = ps[i], is_err[k++] = true;
  }
  if (k > 0 && poll(fds, (nfds_t)k, ms) > 0) {
    for (int j = 0; j < k; j++) {
      if (!(fds[j].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      proc *p = owner[j];
      bool open = is_err[j] ? drain(p->err_fd, p->err, &p->err_len, p->keep, NULL, NULL, 0)
                            : drain(p->out_fd, p->out, &p->out_len, p->keep, &p->out_total, p->tail, sizeof p->tail);
      if (!open) {
        close(is_err[j] ? p->err_fd : p->out_fd);
        *(is_err[j] ? &p->err_fd : &p->out_fd) = -1;
      }
    }
  } else if (k == 0) {
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
  }
  for (int i = 0; i < n; i++) {
    int status;
    if (ps[i]->running && waitpid(ps[i]->pid, &status, WNOHANG) == ps[i]->pid)
      ps[i]->running = false, ps[i]->status = status;
  }
}

void proc_kill(proc *p) {
  if (!p->running) return;
  kill(-p->pid, SIGKILL); /* its session: it called setsid, so its pid is the group's */
  kill(p->pid, SIGKILL);
  int status;
  if (waitpid(p->pid, &status, 0) == p->pid) p->status = status;
  p->running = false;
}

void proc_free(proc *p) {
  proc_kill(p);
  if (p->out_fd >= 0) close(p->out_fd);
  if (p->err_fd >= 0) close(p->err_fd);
  free(p->out), free(p->err);
  p->out = p->err = NULL;
  p->out_fd = p->err_fd = -1;
}

bool proc_run(proc *p, const proc_spec *s, double wall_s) {
  if (!proc_start(p, s)) return false;
  proc *list[1] = {p};
  while (p->running || p->out_fd >= 0 || p->err_fd >= 0) {
    if (proc_now() - p->started > wall_s) {
      proc_kill(p);
      proc_poll(list, 1, 0);
      return false;
    }
    proc_poll(list, 1, 50);
  }
  return true;
}

long proc_nproc_limit(int uid, long extra) {
  uid_t who = uid < 0 ? getuid() : (uid_t)uid;
  long count = 0;
  DIR *d = opendir("/proc");
  if (!d) return extra + 4096;
  for (struct dirent *e; (e = readdir(d));) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    char path[300], line[256];
    snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    long threads = 1;
    unsigned real = 0;
    bool mine = false;
    while (fgets(line, sizeof line, f)) {
      if (sscanf(line, "Uid: %u", &real) == 1) mine = real == who;
      sscanf(line, "Threads: %ld", &threads);
    }
    fclose(f);
    if (mine) count += threads;
  }
  closedir(d);
  return count + extra;
}

/* Every process whose parent chain leads to the grader: as the subreaper (prctl in main)
 * it inherits orphans, so a child's children stay below it wherever they go. */
int proc_kill_descendants(void) {
  pid_t self = getpid();
  int first = -1;
  enum { MAX_PROCS = 1 << 15 };
  static pid_t pid[MAX_PROCS], ppid[MAX_PROCS];
  static char below[MAX_PROCS], zombie[MAX_PROCS];
  for (int round = 0; round < 300; round++) {
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d) break;
    for (struct dirent *e; (e = readdir(d)) && n < MAX_PROCS;) {
      if (!isdigit((unsigned char)e->d_name[0])) continue;
      char path[300], buf[512];
      snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      ssize_t len = read(fd, buf, sizeof buf - 1);
      close(fd);
      if (len <= 0) continue;
      buf[len] = '\0';
      char *paren = strrchr(buf, ')'), st;
      int pp;
      if (!paren || sscanf(paren + 1, " %c %d", &st, &pp) != 2) continue;
      pid[n] = (pid_t)atoi(e->d_name), ppid[n] = pp, zombie[n] = st == 'Z', below[n] = 0;
      n++;
    }
    closedir(d);
    for (bool grew = true; grew;) {
      grew = false;
      for (int i = 0; i < n; i++) {
        if (below[i]) continue;
        bool b = ppid[i] == self;
        for (int j = 0; j < n && !b; j++) b = below[j] && pid[j] == ppid[i];
        if (b) below[i] = 1, grew = true;
      }
    }
    int alive = 0, any = 0;
    for (int i = 0; i < n; i++)
      if (below[i]) any++, alive += !zombie[i], kill(pid[i], SIGKILL);
    if (first < 0) first = alive;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    if (!any) break;
    struct timespec ts = {0, round < 20 ? 1000000L : 10000000L};
    nanosleep(&ts, NULL);
  }
  return first < 0 ? 0 : first;
}
