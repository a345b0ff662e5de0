/* abort_message.c: see abort_message.h. */
#include "abort_message.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

bool nn_abort_message(void (*fn)(void *ctx), void *ctx, char *msg, size_t size) {
  int fds[2];
  msg[0] = '\0';
  if (pipe(fds) != 0) return false;
  fflush(stdout), fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return close(fds[0]), close(fds[1]), false;
  if (pid == 0) { /* the child: its stderr into the pipe, then the code under test */
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    fn(ctx);
    _exit(0);
  }
  close(fds[1]);
  size_t len = 0;
  ssize_t got;
  while (len < size - 1 && (got = read(fds[0], msg + len, size - 1 - len)) > 0) len += (size_t)got;
  msg[len] = '\0';
  char rest[256]; /* what does not fit is read and dropped, so the child never blocks on a full pipe */
  while (read(fds[0], rest, sizeof rest) > 0) continue;
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}
