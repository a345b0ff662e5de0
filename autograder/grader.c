/* grader.c: what `make grade CH=NN` runs. Each graded test of a chapter runs alone,
 * under limits, and the verdicts go to a table and to Gradescope's results.json.
 *
 *   grade --chapter 00-foundations --bin-dir BUILD/tests --results results.json
 *         [--tests-dir autograder/tests] [--hidden-dir autograder/hidden]
 *         [--hidden-bin-dir BUILD/hidden] [--time-limit 20] [--mem-limit-mb 2048]
 *         [--output-limit-kb 256] [--require-gpu] [--require-data] [--build-log FILE]
 *
 * Which tests count: the manifest TESTS_DIR/CH/GRADED (and HIDDEN_DIR/CH/GRADED, whose
 * tests are shown to students only once grades are published), one test a line:
 *     test_gemm  gemm::blocked_matches_double_reference  4  unit,cpu
 * the Criterion program (in BIN_DIR/CH/, or HIDDEN_BIN_DIR/CH/), suite::name, points,
 * tags from {unit, gradcheck, accuracy, cpu, gpu, data, hidden}; '#' starts a comment.
 * `data`: the test needs a data set that is not bundled (`make data` fetches it).
 * A line naming a program or a test that does not exist is the instructor's error:
 * the grader says which line and exits 2 before running anything.
 *
 * How one test runs. The program is started as
 *     BIN --filter SUITE/NAME --json=PRIVATE/report.json -j1 --timeout T
 * in a new process group, from a private mkdtemp folder's point of view (TMPDIR, HOME),
 * with stdout and stderr in one file there, and with
 *     RLIMIT_AS = --mem-limit-mb (RLIMIT_DATA for gpu tests: CUDA reserves far more
 *                 address space than it uses), RLIMIT_FSIZE = --output-limit-kb,
 *     RLIMIT_CPU, RLIMIT_CORE = 0, RLIMIT_NPROC = 64 more processes;
 * as root (Gradescope) it first becomes the user nobody, because root ignores
 * RLIMIT_NPROC, and so that the test cannot write results.json or the repository.
 * The grader waits at most --time-limit seconds of wall time, then kills everything
 * below it: it is the subreaper of its children (PR_SET_CHILD_SUBREAPER), so even a
 * process that left the group (Criterion's own worker does) or whose parent died is
 * found under /proc and killed. Criterion's --timeout is passed, but 2.4.1 does not
 * stop a busy loop; the wall clock does.
 *
 * A test passes only if its program exited 0 and the report says PASSED. exit(0) inside
 * a test would pass it under Criterion; the test programs link autograder/guard.c, which
 * turns exit into an abort with a message, and the grader fails any test that printed
 * it; guard.c also brackets the test body, so a test that vanished mid-way (a raw exit
 * system call) fails too, and names the signal a crashed test died of. A gpu test that skipped
 * itself (no GPU) scores 0 out of 0; any other skip fails. Every failure gets one line a student
 * can act on: the first assertion message, the panic line and the signal of a crash, or the limit
 * that was hit.
 *
 * results.json is written after all tests, to a temporary file renamed over the path,
 * so whatever a test wrote there is replaced. Exit status: 0 when grading worked,
 * whatever the tests did; 2 for a bad manifest, a missing program or bad arguments.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
  MAX_TESTS = 256,
  OUTPUT_KEEP = 2048, /* bytes of a test's output kept in results.json */
  EXTRA_PROCS = 64,   /* RLIMIT_NPROC: processes a test may add */
  LIST_TIME_LIMIT = 20,
};

typedef struct {
  char bin[128]; /* test_gemm */
  char suite[128], name[128];
  char tags[256]; /* "unit,cpu" (hidden tests also get "hidden") */
  double points;
  bool hidden, gpu, needs_data; /* tags gpu, data: may skip when the machine lacks it */
  char path[PATH_MAX];       /* the program */
  char where[PATH_MAX + 16]; /* "autograder/tests/00-foundations/GRADED:7" */
} graded_test;

typedef enum { PASSED, FAILED, SKIPPED } verdict;
static const char *VERDICT_NAME[] = {"passed", "FAILED", "skipped"};

typedef struct {
  verdict v;
  double seconds;
  char feedback[700];
  char output[OUTPUT_KEEP + 8]; /* the start of what the program printed, valid UTF-8 */
} result;

typedef struct {
  double time_limit;
  long mem_mb, output_kb;
  bool require_gpu, require_data;
  bool drop; /* run tests as uid/gid (we are root) */
  uid_t uid;
  gid_t gid;
} limits;

/* What one sandboxed run of a test program left behind. */
typedef struct {
  bool started, timed_out, output_capped;
  int status; /* waitpid status of the program */
  double seconds;
  int leftovers; /* processes still running after the program ended */
  char *out;     /* what it printed (up to the output limit), NUL-terminated */
  size_t out_len;
  json_t *report; /* Criterion's --json report, or NULL */
} run_result;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- errors that are the instructor's: collected, printed, exit 2 */
static int config_errors;
static void config_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void config_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("grade: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  config_errors++;
}

static void copy_str(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src); }

/* ---- the manifest */
static bool tag_known(const char *tag) {
  static const char *KNOWN[] = {"unit", "gradcheck", "accuracy", "cpu", "gpu", "data", "hidden"};
  for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
    if (strcmp(tag, KNOWN[i]) == 0) return true;
  return false;
}

static bool has_tag(const char *tags, const char *tag) {
  char copy[256];
  copy_str(copy, sizeof copy, tags);
  for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    if (strcmp(t, tag) == 0) return true;
  return false;
}

/* Appends the tests of one GRADED file; bin_dir/chapter holds their programs. */
static void read_manifest(const char *path, const char *bin_dir, const char *chapter, bool hidden,
                          graded_test *tests, int *n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    config_error("%s: %s (every graded chapter needs this manifest)", path, strerror(errno));
    return;
  }
  char line[1024];
  for (int lineno = 1; fgets(line, sizeof line, f); lineno++) {
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char bin[256], id[512], pts[64], tags[512], extra[8];
    int fields = sscanf(line, "%255s %511s %63s %511s %7s", bin, id, pts, tags, extra);
    if (fields <= 0) continue;
    char where[PATH_MAX + 16];
    snprintf(where, sizeof where, "%s:%d", path, lineno);
    if (fields != 4) {
      config_error("%s: expected 4 fields (program  suite::name  points  tags), found %d", where,
                   fields);
      continue;
    }
    char *sep = strstr(id, "::"), *end;
    double points = strtod(pts, &end);
    if (!sep || sep == id || !sep[2] || strchr(sep + 2, ':')) {
      config_error("%s: '%s' is not suite::name", where, id);
      continue;
    }
    if (*end || !(points >= 0) || points > 1e6) {
      config_error("%s: points '%s' is not a number >= 0", where, pts);
      continue;
    }
    bool tags_ok = true;
    char copy[512];
    copy_str(copy, sizeof copy, tags);
    for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
      if (!tag_known(t)) {
        config_error("%s: unknown tag '%s' (known: unit, gradcheck, accuracy, cpu, gpu, data, hidden)",
                     where, t);
        tags_ok = false;
      }
    if (!tags_ok) continue;
    if (strlen(bin) >= sizeof tests->bin || strchr(bin, '/') ||
        (size_t)(sep - id) >= sizeof tests->suite || strlen(sep + 2) >= sizeof tests->name ||
        strlen(tags) + 8 >= sizeof tests->tags) {
      config_error("%s: a name is too long or has a '/'", where);
      continue;
    }
    if (*n == MAX_TESTS) {
      config_error("%s: more than %d graded tests", where, MAX_TESTS);
      break;
    }
    graded_test *t = &tests[(*n)++];
    memset(t, 0, sizeof *t);
    copy_str(t->bin, sizeof t->bin, bin);
    memcpy(t->suite, id, (size_t)(sep - id));
    copy_str(t->name, sizeof t->name, sep + 2);
    copy_str(t->tags, sizeof t->tags, tags);
    if (hidden && !has_tag(tags, "hidden")) strcat(t->tags, ",hidden");
    t->points = points;
    t->hidden = hidden;
    t->gpu = has_tag(t->tags, "gpu");
    t->needs_data = has_tag(t->tags, "data");
    snprintf(t->path, sizeof t->path, "%s/%s/%s", bin_dir, chapter, bin);
    copy_str(t->where, sizeof t->where, where);
    for (int i = 0; i < *n - 1; i++)
      if (strcmp(tests[i].suite, t->suite) == 0 && strcmp(tests[i].name, t->name) == 0) {
        config_error("%s: %s::%s is already graded at %s", where, t->suite, t->name,
                     tests[i].where);
        (*n)--;
        break;
      }
  }
  fclose(f);
}

/* ---- processes */

/* Kills every process below the grader and reaps what it can. As the subreaper the
 * grader inherits orphans, so a test's processes stay below it wherever they go.
 * `watch` (if > 0) is the program: its status goes to *watch_status if it is reaped
 * here. Returns how many live (non-zombie) processes were found on the first pass. */
static int kill_descendants(pid_t watch, int *watch_status, bool *watch_done) {
  pid_t self = getpid();
  int first_count = -1;
  enum { MAX_PROCS = 1 << 16 };
  static pid_t pid[MAX_PROCS], ppid[MAX_PROCS];
  static char state[MAX_PROCS], below[MAX_PROCS];
  for (int round = 0; round < 500; round++) {
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
      pid[n] = (pid_t)atoi(e->d_name), ppid[n] = pp, state[n] = st, below[n] = 0;
      n++;
    }
    closedir(d);
    for (bool grew = true; grew;) { /* below[i]: pid[i] descends from the grader */
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
      if (below[i]) {
        any++;
        if (state[i] != 'Z') alive++;
        kill(pid[i], SIGKILL);
      }
    if (first_count < 0) first_count = alive;
    int status;
    for (pid_t p; (p = waitpid(-1, &status, WNOHANG)) > 0;)
      if (p == watch && watch_status) *watch_status = status, *watch_done = true;
    if (!any) break;
    sleep_ms(round < 20 ? 1 : 10);
  }
  return first_count < 0 ? 0 : first_count;
}

/* Processes of this uid now (RLIMIT_NPROC counts them all). */
static long processes_of(uid_t uid) {
  long count = 0;
  DIR *d = opendir("/proc");
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%s", e->d_name);
    if (stat(path, &st) == 0 && st.st_uid == uid) count++;
  }
  closedir(d);
  return count;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static void remove_tree(const char *dir) { nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Criterion's runner talks to its workers through the socket /tmp/criterion_<its pid>.sock
 * (Criterion 2.4 fixes the path) and removes it when it ends. A runner that was killed
 * (a timeout, an attack) leaves its file behind, and a later runner with the same pid
 * then fails to bind and aborts: "Could not initialize the message server: Address
 * already in use", a test crashed by nothing it did. Worse as nobody: in sticky /tmp it
 * cannot remove a file root's runs left. The file of a pid no live process holds is
 * always stale, so the grader removes it: before the test starts (the pid is the
 * child's own) and after it ends. */
static void remove_criterion_socket(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/criterion_%ld.sock", (long)pid);
  unlink(path);
}

/* In the child, before exec: never returns. */
static void exec_limited(char *const argv[], const char *dir, int out_fd, bool gpu,
                         const limits *lim, long nproc) {
  setpgid(0, 0);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  dup2(out_fd, STDERR_FILENO);
  for (int fd = 3; fd < 1024; fd++) close(fd); /* nothing of the grader's leaks in */

  extern char **environ;
  for (bool again = true; again;) { /* Criterion reads CRITERION_* settings from the environment */
    again = false;
    for (char **e = environ; *e; e++)
      if (strncmp(*e, "CRITERION_", 10) == 0) {
        char name[256];
        size_t len = strcspn(*e, "=");
        snprintf(name, sizeof name, "%.*s", (int)(len < 255 ? len : 255), *e);
        unsetenv(name);
        again = true;
        break;
      }
  }
  remove_criterion_socket(getpid()); /* still as the grader's user: root may remove any */
  setenv("NN_GRADE", "1", 1);        /* guard.c names the signal a test dies of */
  setenv("TMPDIR", dir, 1);
  setenv("HOME", dir, 1);

  rlim_t mem = (rlim_t)lim->mem_mb << 20, out = (rlim_t)lim->output_kb << 10;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  /* libnn's OpenMP pool starts a thread per core, and threads count against
   * RLIMIT_NPROC's EXTRA_PROCS: on a big machine, at most 8 (unless the caller chose). */
  char threads[16];
  snprintf(threads, sizeof threads, "%ld", cpus < 1 ? 1 : cpus > 8 ? 8 : cpus);
  setenv("OMP_NUM_THREADS", threads, 0);
  rlim_t cpu = (rlim_t)(lim->time_limit * (cpus > 0 ? cpus : 1)) +
               1; /* the wall clock is the limit; this is a backstop */
  struct rlimit r;
  r = (struct rlimit){mem, mem};
  setrlimit(gpu ? RLIMIT_DATA : RLIMIT_AS, &r);
  r = (struct rlimit){out, out};
  setrlimit(RLIMIT_FSIZE, &r);
  r = (struct rlimit){cpu, cpu + 1};
  setrlimit(RLIMIT_CPU, &r);
  r = (struct rlimit){0, 0};
  setrlimit(RLIMIT_CORE, &r);
  if (lim->drop) {
    if (setgroups(0, NULL) != 0 || setgid(lim->gid) != 0 || setuid(lim->uid) != 0 ||
        getuid() != lim->uid) {
      dprintf(STDERR_FILENO, "nn-grade: could not become uid %d: %s\n", (int)lim->uid,
              strerror(errno));
      _exit(126);
    }
  }
  r = (struct rlimit){(rlim_t)nproc, (rlim_t)nproc};
  setrlimit(RLIMIT_NPROC, &r);
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* after setuid, which clears it */
  execv(argv[0], argv);
  dprintf(STDERR_FILENO, "nn-grade: could not run %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

/* Bytes that are not UTF-8 become '?', in place: jansson rejects them, and a test's
 * message may carry anything the student's code printed into it. */
static void repair_utf8(char *s, size_t len) {
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char)s[i];
    size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = k > 0 && i + k <= len;
    for (size_t m = 1; ok && m < k; m++) ok = ((unsigned char)s[i + m] >> 6) == 2;
    if (ok && k == 2) ok = c >= 0xC2; /* not overlong */
    if (ok && k == 3) {
      unsigned cp = ((c & 15u) << 12) | (((unsigned char)s[i + 1] & 63u) << 6);
      ok = cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (ok && k == 4) {
      unsigned cp = ((c & 7u) << 18) | (((unsigned char)s[i + 1] & 63u) << 12);
      ok = cp >= 0x10000 && cp <= 0x10FFFF;
    }
    if (!ok) s[i] = '?', k = 1;
    i += k;
  }
}

/* Criterion's --json report, or NULL if the program wrote none (or nothing readable). */
static json_t *load_report(const char *path, size_t max_bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(max_bytes + 1);
  size_t len = buf ? fread(buf, 1, max_bytes, f) : 0;
  fclose(f);
  if (!buf) return NULL;
  repair_utf8(buf, len);
  json_error_t err;
  json_t *report = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
  free(buf);
  return report;
}

/* Runs argv[0] (a test program) under the limits; an argument "@JSON" becomes
 * --json=PRIVATE/report.json. The caller frees ->out and ->report (run_free). */
static run_result run_sandboxed(char *const argv_in[], bool gpu, const limits *lim,
                                double wall_limit) {
  run_result r = {0};
  char d[] = "/tmp/nn-grade-XXXXXX"; /* /tmp: the test's user can reach it */
  if (!mkdtemp(d)) {
    r.out = strdup("nn-grade: could not make a private folder in /tmp");
    r.out_len = strlen(r.out);
    return r;
  }
  char outpath[PATH_MAX + 32], report[PATH_MAX + 32];
  snprintf(outpath, sizeof outpath, "%s/output", d);
  snprintf(report, sizeof report, "%s/report.json", d);
  int out_fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (lim->drop) { /* the test's user must write its report there */
    if (chown(d, lim->uid, lim->gid) != 0) perror("grade: chown");
    chmod(d, 0700);
  }

  char *argv[16];
  char json_arg[PATH_MAX + 48];
  int argc = 0;
  for (; argv_in[argc] && argc < 15; argc++) {
    argv[argc] = argv_in[argc];
    if (strcmp(argv_in[argc], "@JSON") == 0) {
      snprintf(json_arg, sizeof json_arg, "--json=%s", report);
      argv[argc] = json_arg;
    }
  }
  argv[argc] = NULL;

  long nproc = EXTRA_PROCS + (lim->drop ? processes_of(lim->uid) : processes_of(getuid()));
  double start = now();
  pid_t child = out_fd < 0 ? -1 : fork();
  if (child == 0) exec_limited(argv, d, out_fd, gpu, lim, nproc);
  if (child < 0) {
    r.out = strdup("nn-grade: could not start the test program (fork failed)");
    r.out_len = strlen(r.out);
    if (out_fd >= 0) close(out_fd);
    remove_tree(d);
    return r;
  }
  r.started = true;
  setpgid(child, child); /* also in the child; whichever runs first */

  bool done = false;
  while (!done) {
    int status;
    pid_t p = waitpid(-1, &status, WNOHANG); /* also reaps orphans handed to us */
    if (p == child) {
      r.status = status, done = true;
      break;
    }
    if (p > 0) continue;
    if (p < 0 && errno == ECHILD) { /* cannot happen: the program is ours */
      r.status = 255 << 8;
      break;
    }
    if (now() - start > wall_limit) {
      r.timed_out = true;
      kill(-child, SIGKILL);
      kill_descendants(child, &r.status, &done);
      if (!done && waitpid(child, &status, 0) == child) r.status = status, done = true;
      break;
    }
    sleep_ms(now() - start < 1 ? 2 : 10);
  }
  r.seconds = now() - start;
  kill(-child, SIGKILL);                            /* whatever the program left in its group... */
  int leftovers = kill_descendants(-1, NULL, NULL); /* ...and anywhere below us */
  if (!r.timed_out) r.leftovers = leftovers;
  remove_criterion_socket(child);

  struct stat st;
  size_t limit_bytes = (size_t)lim->output_kb << 10;
  if (fstat(out_fd, &st) == 0 && (size_t)st.st_size >= limit_bytes) r.output_capped = true;
  if (WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGXFSZ) r.output_capped = true;
  close(out_fd);
  FILE *f = fopen(outpath, "rb");
  r.out = calloc(limit_bytes + 1, 1);
  if (f && r.out) r.out_len = fread(r.out, 1, limit_bytes, f);
  if (f) fclose(f);
  if (r.out) r.out[r.out_len] = '\0';
  for (size_t i = 0; r.out && i < r.out_len; i++)
    if (r.out[i] == '\0') r.out[i] = ' '; /* one C string */
  r.report = load_report(report, limit_bytes);
  remove_tree(d);
  return r;
}

static void run_free(run_result *r) {
  free(r->out);
  json_decref(r->report);
  r->out = NULL, r->report = NULL;
}

/* ---- reading what happened */

/* The line of out that starts with prefix (at a line start), without the prefix and
 * the newline, into buf; NULL if none. */
static const char *find_line(const char *out, const char *prefix, const char *contains, char *buf,
                             size_t n) {
  size_t plen = strlen(prefix);
  for (const char *p = out; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (len >= plen && strncmp(p, prefix, plen) == 0) {
      snprintf(buf, n, "%.*s", (int)(len - plen), p + plen);
      if (!contains || strstr(buf, contains)) return buf;
    }
    p = eol ? eol + 1 : NULL;
  }
  return NULL;
}

/* The last non-empty line of out that is not Criterion's own chatter. */
static const char *last_line(const char *out, char *buf, size_t n) {
  const char *found = NULL;
  for (const char *p = out; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (len > 0 && strncmp(p, "[====]", 6) != 0 && strncmp(p, "[----]", 6) != 0 &&
        strncmp(p, "[FAIL]", 6) != 0 && strncmp(p, "[SKIP]", 6) != 0 &&
        strncmp(p, "nn-grade: test body ", 20) != 0) {
      snprintf(buf, n, "%.*s", (int)(len < 300 ? len : 300), p);
      found = buf;
    }
    p = eol ? eol + 1 : NULL;
  }
  return found;
}

static const char *signal_name(int sig, char *buf, size_t n) {
  const char *abbrev = sigabbrev_np(sig);
  if (abbrev)
    snprintf(buf, n, "SIG%s", abbrev);
  else
    snprintf(buf, n, "signal %d", sig);
  return buf;
}

/* "exited with status 3" / "was killed by SIGKILL" */
static void describe_status(int status, char *buf, size_t n) {
  char sig[32];
  if (WIFEXITED(status))
    snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(buf, n, "was killed by %s", signal_name(WTERMSIG(status), sig, sizeof sig));
  else
    snprintf(buf, n, "ended (status %#x)", status);
}

/* The test's entry in a Criterion report: status and first message. */
static const char *report_status(json_t *report, const char *suite, const char *name,
                                 const char **message) {
  *message = NULL;
  json_t *suites = json_object_get(report, "test_suites");
  size_t i, j;
  json_t *s, *t;
  json_array_foreach(suites, i, s) {
    if (!json_is_string(json_object_get(s, "name")) ||
        strcmp(json_string_value(json_object_get(s, "name")), suite) != 0)
      continue;
    json_array_foreach(json_object_get(s, "tests"), j, t) {
      const char *tn = json_string_value(json_object_get(t, "name"));
      if (!tn || strcmp(tn, name) != 0) continue;
      json_t *msgs = json_object_get(t, "messages");
      if (json_array_size(msgs) > 0) *message = json_string_value(json_array_get(msgs, 0));
      const char *st = json_string_value(json_object_get(t, "status"));
      return st ? st : "?";
    }
  }
  return NULL;
}

/* "autograder/tests/00-foundations/test_gemm.c:171: msg" -> "msg" */
static const char *strip_location(const char *msg) {
  const char *colon = strstr(msg, ".c:");
  if (!colon || strchr(msg, ' ') < colon) return msg;
  const char *p = colon + 3;
  while (isdigit((unsigned char)*p)) p++;
  if (p == colon + 3 || *p != ':') return msg;
  return p[1] == ' ' ? p + 2 : p + 1;
}

/* src as valid UTF-8, without the grader's bracket lines ("nn-grade: test body ..."),
 * control characters but \n and \t as '?' (one_line: \n and \t as ' '), at most n-1
 * bytes and never half a character. */
static void clean_text(char *dst, size_t n, const char *src, size_t len, bool one_line) {
  size_t o = 0;
  for (size_t i = 0; i < len && o + 1 < n;) {
    if ((i == 0 || src[i - 1] == '\n') && len - i >= 20 &&
        strncmp(src + i, "nn-grade: test body ", 20) == 0) {
      const char *eol = memchr(src + i, '\n', len - i);
      i = eol ? (size_t)(eol - src) + 1 : len;
      continue;
    }
    unsigned char c = (unsigned char)src[i];
    size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + k > len || o + k >= n) break;
    char ch[4];
    memcpy(ch, src + i, k);
    repair_utf8(ch, k); /* an invalid lead or tail byte becomes '?' */
    if (k > 1 && ch[0] == '?') k = 1;
    if (k == 1) {
      if (one_line && (c == '\n' || c == '\t'))
        ch[0] = ' ';
      else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F)
        ch[0] = '?';
    }
    memcpy(dst + o, ch, k);
    o += k, i += k;
  }
  dst[o] = '\0';
}

/* The verdict on one graded test from its run. */
static result judge(const graded_test *t, const run_result *r, const limits *lim,
                    const char *bin_failure) {
  result res = {.v = FAILED, .seconds = r->seconds};
  char fb[1024] = "", line[600], how[96];
  const char *out = r->out ? r->out : "";
  const char *message = NULL,
             *status = r->report ? report_status(r->report, t->suite, t->name, &message) : NULL;
  bool exited0 = WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
  const char *signal_line =
      find_line(out, "nn-grade: the test process got ", NULL, line, sizeof line);
  char signal_text[200] = "";
  if (signal_line) copy_str(signal_text, sizeof signal_text, signal_line);
  char panic[600] = "", oom[300] = "";
  find_line(out, "libnn: ", NULL, panic, sizeof panic);
  find_line(out, "nn-grade: out of memory: ", NULL, oom, sizeof oom);
  char sigword[48] = ""; /* "SIGSEGV" */
  if (signal_text[0]) sscanf(signal_text, "%47s", sigword);
  bool body_begun = find_line(out, "nn-grade: test body begins", NULL, line, sizeof line) != NULL;
  bool body_returned =
      find_line(out, "nn-grade: test body returned", NULL, line, sizeof line) != NULL;
  bool xcpu = strncmp(signal_text, "SIGXCPU", 7) == 0 ||
              (WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGXCPU);

  if (bin_failure) {
    snprintf(fb, sizeof fb, "%s", bin_failure);
  } else if (!r->started) {
    snprintf(fb, sizeof fb, "the grader could not start the test: %s", out);
  } else if (find_line(out, "nn-grade: ", "was called inside a test", line, sizeof line)) {
    snprintf(fb, sizeof fb, "%s", line);
  } else if (r->timed_out) {
    snprintf(fb, sizeof fb, "timed out after %g s (an endless loop?)", lim->time_limit);
  } else if (r->output_capped) {
    snprintf(fb, sizeof fb, "killed: more than %ld KB of output (printing in a loop?)",
             lim->output_kb);
  } else if (xcpu) {
    snprintf(fb, sizeof fb, "timed out: used up its CPU time (an endless loop?)");
  } else if (oom[0] && (!status || strcmp(status, "PASSED") != 0)) {
    snprintf(fb, sizeof fb, "ran out of its %ld MB memory limit: %s%s%s", lim->mem_mb, oom,
             sigword[0] ? ", then crashed: " : "", sigword);
  } else if (status && strcmp(status, "PASSED") == 0 && exited0) {
    if (!body_begun)
      snprintf(fb, sizeof fb,
               "the grader did not see the test run: is %s linked with "
               "autograder/guard.c (the Makefile's test rule)?",
               t->bin);
    else if (!body_returned && !signal_text[0])
      snprintf(fb, sizeof fb,
               "the test process ended in the middle of the test, without an "
               "error (a raw exit system call, or exec?): library code must return");
    else if (r->leftovers > 0)
      snprintf(fb, sizeof fb,
               "passed, but left %d process%s running after it ended (a fork "
               "without a wait?)",
               r->leftovers, r->leftovers == 1 ? "" : "es");
    else
      res.v = PASSED;
  } else if (status && strcmp(status, "SKIPPED") == 0) {
    bool real = message && strcmp(message, "The test was skipped.") != 0;
    if (!real)
      snprintf(fb, sizeof fb, "the test did not run (Criterion skipped it; is --filter right?)");
    else if (t->gpu && strstr(message, "memory"))
      snprintf(fb, sizeof fb,
               "skipped: %s; if this machine has a GPU, CUDA may not start under "
               "the grader's %ld MB limit (RLIMIT_DATA): raise --mem-limit-mb",
               message, lim->mem_mb);
    else if (t->gpu && !lim->require_gpu)
      res.v = SKIPPED, snprintf(fb, sizeof fb, "%s", message);
    else if (t->gpu)
      snprintf(fb, sizeof fb, "skipped on a machine that must have a GPU: %s", message);
    else if (t->needs_data && !lim->require_data)
      res.v = SKIPPED, snprintf(fb, sizeof fb, "%s", message);
    else if (t->needs_data)
      snprintf(fb, sizeof fb, "skipped on a machine that must have the data: %s", message);
    else
      snprintf(fb, sizeof fb, "the test skipped itself (%s); only gpu and data tests may skip", message);
  } else if (status && strcmp(status, "FAILED") == 0 && message) {
    snprintf(fb, sizeof fb, "%s", strip_location(message));
  } else if (status && strcmp(status, "PASSED") == 0) {
    describe_status(r->status, how, sizeof how);
    snprintf(fb, sizeof fb, "the test passed, but its program then %s", how);
  } else if (status || !r->report) {
    /* crashed (ERRORED), or died before writing a report */
    if (panic[0])
      snprintf(fb, sizeof fb, "libnn: %s [%s]", panic, sigword[0] ? sigword : "crashed");
    else if (signal_text[0])
      snprintf(fb, sizeof fb, "crashed: %s", signal_text);
    else if (status)
      snprintf(fb, sizeof fb, "crashed (%s)", message ? message : status);
    else {
      describe_status(r->status, how, sizeof how);
      const char *last = last_line(out, line, sizeof line);
      snprintf(fb, sizeof fb, "the test program %s before it wrote its report%s%s", how,
               last ? ": " : "", last ? last : "");
    }
  } else {
    snprintf(fb, sizeof fb, "the report does not have %s::%s", t->suite, t->name);
  }
  if (res.v == FAILED && r->leftovers > 0 && !strstr(fb, " running after it ended"))
    snprintf(fb + strlen(fb), sizeof fb - strlen(fb),
             "; it also left %d process%s running (the grader killed %s)", r->leftovers,
             r->leftovers == 1 ? "" : "es", r->leftovers == 1 ? "it" : "them");
  clean_text(res.feedback, sizeof res.feedback, fb, strlen(fb), true);
  clean_text(res.output, sizeof res.output, out,
             r->out_len < OUTPUT_KEEP ? r->out_len : OUTPUT_KEEP, false);
  return res;
}

/* ---- the programs: do they exist, and do they have the manifest's tests? */
typedef struct {
  char path[PATH_MAX];
  char *listing;     /* --list output */
  char failure[800]; /* why listing failed (the student's code), "" if it worked */
} program;

/* Is suite::name in a `--list` listing?  Lines: "suite: N tests", "├── name", "└── name". */
static bool listed(const char *listing, const char *suite, const char *name) {
  bool in_suite = false;
  for (const char *p = listing; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    const char *dash = NULL;
    for (size_t i = 0; i + 3 < len && !dash; i++)
      if (memcmp(p + i, "\xe2\x94\x80 ", 4) == 0) dash = p + i + 4; /* "─ " */
    if (dash) {
      size_t nlen = len - (size_t)(dash - p);
      if (in_suite && nlen == strlen(name) && strncmp(dash, name, nlen) == 0) return true;
    } else {
      const char *colon = memchr(p, ':', len);
      in_suite =
          colon && (size_t)(colon - p) == strlen(suite) && strncmp(p, suite, strlen(suite)) == 0;
    }
    p = eol ? eol + 1 : NULL;
  }
  return false;
}

/* As root: can the user the tests run as reach what they need? Checked by a child that
 * becomes that user and asks access(2). Returns problems, one a line ("" if none). */
static int probe_fd; /* nftw's callback takes no argument: where check_access reports */
static int check_access(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)ftw;
  bool bad = flag == FTW_DNR || (flag == FTW_D && access(path, R_OK | X_OK) != 0) ||
             (flag == FTW_F && access(path, R_OK) != 0);
  if (bad) dprintf(probe_fd, "data %s\n", path);
  return bad; /* the first one is enough */
}

static char *probe_access(const limits *lim, program *progs, int nprogs) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return strdup("");
  pid_t p = fork();
  if (p == 0) {
    close(pipefd[0]);
    /* Absolute paths: Criterion opens its own program file by its full path to find
     * the tests, so every folder above it must be open to the user, not only cwd. */
    for (int i = 0; i < nprogs; i++) {
      char full[PATH_MAX];
      if (realpath(progs[i].path, full)) copy_str(progs[i].path, sizeof progs[i].path, full);
    }
    if (setgroups(0, NULL) != 0 || setgid(lim->gid) != 0 || setuid(lim->uid) != 0) {
      dprintf(pipefd[1], "drop %s\n", strerror(errno));
      _exit(0);
    }
    if (access(".", R_OK | X_OK) != 0) dprintf(pipefd[1], "cwd .\n");
    for (int i = 0; i < nprogs; i++)
      if (access(progs[i].path, R_OK | X_OK) != 0) dprintf(pipefd[1], "prog %s\n", progs[i].path);
    if (access("/tmp", W_OK | X_OK) != 0) dprintf(pipefd[1], "tmp /tmp\n");
    probe_fd = pipefd[1];
    struct stat st;
    if (stat("datasets", &st) == 0) nftw("datasets", check_access, 16, FTW_PHYS);
    _exit(0);
  }
  close(pipefd[1]);
  size_t cap = 4096, len = 0;
  char *buf = calloc(cap, 1);
  for (ssize_t n; buf && (n = read(pipefd[0], buf + len, cap - 1 - len)) > 0;) {
    len += (size_t)n;
    if (len + 1 == cap) {
      char *bigger = realloc(buf, cap *= 2);
      if (!bigger) break;
      buf = bigger;
    }
  }
  close(pipefd[0]);
  if (p > 0) waitpid(p, NULL, 0);
  if (buf) buf[len] = '\0';
  return buf ? buf : strdup("");
}

/* ---- results.json, written whole or not at all */
static json_t *tag_array(const char *tags) {
  json_t *a = json_array();
  char copy[256];
  copy_str(copy, sizeof copy, tags);
  for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    json_array_append_new(a, json_string(t));
  return a;
}

static bool write_results(const char *path, const graded_test *tests, const result *res, int n,
                          double seconds, const char *summary) {
  json_t *root = json_object(), *arr = json_array();
  double score = 0;
  for (int i = 0; i < n; i++) {
    const graded_test *t = &tests[i];
    const result *r = &res[i];
    char name[300];
    snprintf(name, sizeof name, "%s::%s", t->suite, t->name);
    double max = r->v == SKIPPED ? 0 : t->points, got = r->v == PASSED ? t->points : 0;
    score += got;
    size_t cap = strlen(r->feedback) + strlen(r->output) + 200;
    char *text = malloc(cap);
    if (!text) return false;
    if (r->v == SKIPPED)
      snprintf(text, cap,
               "SKIPPED (0 of 0 points; it counts neither for nor against you): %s\n\n%s",
               r->feedback, r->output);
    else if (r->v == FAILED)
      snprintf(text, cap, "%s\n\n%s", r->feedback, r->output);
    else
      snprintf(text, cap, "%s", r->output);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "score", json_real(got));
    json_object_set_new(o, "max_score", json_real(max));
    if (r->v != SKIPPED) /* Gradescope knows passed and failed only; a skip is 0/0 */
      json_object_set_new(o, "status", json_string(r->v == PASSED ? "passed" : "failed"));
    json_object_set_new(o, "output", json_string(text));
    json_object_set_new(o, "tags", tag_array(t->tags));
    json_object_set_new(o, "visibility", json_string(t->hidden ? "after_published" : "visible"));
    json_object_set_new(o, "extra_data",
                        json_pack("{s:s, s:s, s:f, s:s}", "result",
                                  r->v == PASSED   ? "passed"
                                  : r->v == FAILED ? "failed"
                                                   : "skipped",
                                  "program", t->bin, "seconds", r->seconds, "feedback",
                                  r->feedback));
    json_array_append_new(arr, o);
    free(text);
  }
  json_object_set_new(root, "score", json_real(score));
  json_object_set_new(root, "execution_time", json_integer((json_int_t)(seconds + 0.999)));
  json_object_set_new(root, "output", json_string(summary));
  json_object_set_new(root, "tests", arr);

  char tmp[PATH_MAX + 32];
  snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
  int fd = mkstemp(tmp);
  bool ok = fd >= 0;
  if (ok) {
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    ok = f && json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0;
    if (f) ok = fputc('\n', f) != EOF && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    if (f)
      ok = fclose(f) == 0 && ok;
    else
      close(fd);
    if (ok) ok = rename(tmp, path) == 0;
    if (!ok) unlink(tmp);
  }
  if (!ok) fprintf(stderr, "grade: error: could not write %s: %s\n", path, strerror(errno));
  json_decref(root);
  return ok;
}

/* One row of the table: test, points, status, time, feedback. */
static double print_row(int width, const graded_test *t, const result *r) {
  char pts[32], id[300];
  double got = r->v == PASSED ? t->points : 0, max = r->v == SKIPPED ? 0 : t->points;
  snprintf(pts, sizeof pts, "%g/%g", got, max);
  snprintf(id, sizeof id, "%s::%s", t->suite, t->name);
  printf("  %-*s  %7s  %-7s  %5.1fs  %s\n", width, id, pts, VERDICT_NAME[r->v], r->seconds,
         r->v == PASSED ? "" : r->feedback);
  return got;
}

/* The score line, results.json and the closing "N passed, N failed, N skipped". */
static int finish(const char *chapter, const char *results_path, const graded_test *tests,
                  const result *res, int n, double seconds) {
  double score = 0, max_score = 0;
  int passed = 0, failed = 0, skipped = 0;
  for (int i = 0; i < n; i++) {
    score += res[i].v == PASSED ? tests[i].points : 0;
    max_score += res[i].v == SKIPPED ? 0 : tests[i].points;
    passed += res[i].v == PASSED, failed += res[i].v == FAILED, skipped += res[i].v == SKIPPED;
  }
  char summary[512];
  snprintf(summary, sizeof summary, "%s: %g/%g points. %d passed, %d failed, %d skipped%s", chapter,
           score, max_score, passed, failed, skipped,
           skipped ? " (skipped tests count 0 of 0 points: they need a GPU or a data set this machine lacks)"
                   : "");
  bool wrote = write_results(results_path, tests, res, n, seconds, summary);
  printf("\nscore: %g/%g%s\n", score, max_score, wrote ? "" : " (results.json NOT written)");
  if (wrote) printf("wrote %s\n", results_path);
  printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return wrote ? 0 : 2;
}

/* The library or a test program did not compile: every test fails, and the
 * feedback is the compiler's first error; the output keeps the log's end. */
static void judge_build_failure(const char *log_path, result *res, int n) {
  char first_error[600] = "", line[600];
  char *tail = calloc(1, OUTPUT_KEEP + 1);
  FILE *f = fopen(log_path, "r");
  long size = 0;
  if (f) {
    while (fgets(line, sizeof line, f))
      if (!first_error[0] && strstr(line, "error")) clean_text(first_error, sizeof first_error, line, strlen(line), true);
    size = ftell(f);
    fseek(f, size > OUTPUT_KEEP ? size - OUTPUT_KEEP : 0, SEEK_SET);
    size_t got = tail ? fread(tail, 1, OUTPUT_KEEP, f) : 0;
    if (tail) tail[got] = '\0';
    fclose(f);
  }
  for (int i = 0; i < n; i++) {
    res[i] = (result){.v = FAILED};
    snprintf(res[i].feedback, sizeof res[i].feedback, "your code does not compile: %s",
             first_error[0] ? first_error : "see the build log");
    if (tail) clean_text(res[i].output, sizeof res[i].output, tail, strlen(tail), false);
  }
  free(tail);
}

static void usage(void) {
  fprintf(stderr,
          "usage: grade --chapter NN-topic --bin-dir BUILD/tests --results results.json\n"
          "             [--tests-dir autograder/tests] [--hidden-dir autograder/hidden]\n"
          "             [--hidden-bin-dir BUILD/hidden] [--time-limit 20] [--mem-limit-mb 2048]\n"
          "             [--output-limit-kb 256] [--require-gpu] [--require-data] [--build-log FILE]\n"
          "--build-log: the code did not build (FILE says why); grade every test as failed\n");
  exit(2);
}

/* ---- main: read the arguments and manifests, check the programs, run every test */

typedef struct {
  const char *chapter, *bin_dir, *results_path;
  const char *tests_dir, *hidden_dir, *hidden_bin_dir, *build_log;
  limits lim;
} options;

static options parse_args(int argc, char **argv) {
  options o = {.tests_dir = "autograder/tests", .lim = {.time_limit = 20, .mem_mb = 2048, .output_kb = 256}};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--require-gpu") == 0) {
      o.lim.require_gpu = true;
      continue;
    }
    if (strcmp(a, "--require-data") == 0) {
      o.lim.require_data = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    char *end = NULL;
    if (strcmp(a, "--chapter") == 0)
      o.chapter = v;
    else if (strcmp(a, "--bin-dir") == 0)
      o.bin_dir = v;
    else if (strcmp(a, "--results") == 0)
      o.results_path = v;
    else if (strcmp(a, "--tests-dir") == 0)
      o.tests_dir = v;
    else if (strcmp(a, "--hidden-dir") == 0)
      o.hidden_dir = v;
    else if (strcmp(a, "--hidden-bin-dir") == 0)
      o.hidden_bin_dir = v;
    else if (strcmp(a, "--build-log") == 0)
      o.build_log = v;
    else if (strcmp(a, "--time-limit") == 0)
      o.lim.time_limit = strtod(v, &end);
    else if (strcmp(a, "--mem-limit-mb") == 0)
      o.lim.mem_mb = strtol(v, &end, 10);
    else if (strcmp(a, "--output-limit-kb") == 0)
      o.lim.output_kb = strtol(v, &end, 10);
    else
      usage();
    if (end && (*end || end == v)) usage();
  }
  if (!o.chapter || !o.bin_dir || !o.results_path || !(o.lim.time_limit > 0) || o.lim.mem_mb < 64 ||
      o.lim.output_kb < 4)
    usage();
  return o;
}

/* The public manifest, then the hidden one if there is one; returns the number of tests. */
static int read_manifests(const options *o, graded_test *tests) {
  int n = 0;
  char path[PATH_MAX], hidden_bins[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s/GRADED", o->tests_dir, o->chapter);
  read_manifest(path, o->bin_dir, o->chapter, false, tests, &n);
  snprintf(hidden_bins, sizeof hidden_bins, "%s/../hidden", o->bin_dir);
  if (o->hidden_dir) {
    snprintf(path, sizeof path, "%s/%s/GRADED", o->hidden_dir, o->chapter);
    if (access(path, F_OK) == 0)
      read_manifest(path, o->hidden_bin_dir ? o->hidden_bin_dir : hidden_bins, o->chapter, true, tests, &n);
  }
  if (n == 0 && !config_errors) config_error("%s/%s/GRADED lists no tests", o->tests_dir, o->chapter);
  return n;
}

/* The table's first column is as wide as the longest suite::name. */
static int print_table_header(const graded_test *tests, int n) {
  int width = 4;
  for (int i = 0; i < n; i++) {
    int w = (int)(strlen(tests[i].suite) + 2 + strlen(tests[i].name));
    if (w > width) width = w;
  }
  printf("  %-*s  %7s  %-7s  %6s  %s\n", width, "test", "points", "status", "time", "feedback");
  return width;
}

/* As root, tests run as nobody: root ignores RLIMIT_NPROC and could write anywhere. */
static void choose_user(limits *lim) {
  if (geteuid() != 0) return;
  struct passwd *pw = getpwnam("nobody");
  lim->drop = true;
  lim->uid = pw ? pw->pw_uid : 65534;
  lim->gid = pw ? pw->pw_gid : 65534;
}

/* Each test program once in progs; prog_of[i] is test i's. Returns the count. */
static int collect_programs(const graded_test *tests, int n, const char *chapter, program *progs,
                            int *prog_of) {
  int nprogs = 0;
  for (int i = 0; i < n; i++) {
    int k = 0;
    while (k < nprogs && strcmp(progs[k].path, tests[i].path) != 0) k++;
    if (k == nprogs) {
      copy_str(progs[k].path, sizeof progs[k].path, tests[i].path);
      nprogs++;
      if (access(tests[i].path, X_OK) != 0)
        config_error("%s: the program %s is missing (%s); build it first (make grade CH=%s)",
                     tests[i].where, tests[i].path, strerror(errno), chapter);
    }
    prog_of[i] = k;
  }
  return nprogs;
}

/* The user the tests run as must reach the programs; datasets it cannot read
 * become a note on each failed test's feedback (data_note). */
static void check_reach(const limits *lim, program *progs, int nprogs, char *data_note, size_t size) {
  char *problems = probe_access(lim, progs, nprogs);
  for (char *save, *l = strtok_r(problems, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    if (strncmp(l, "data ", 5) == 0) {
      snprintf(data_note, size,
               " (note: tests run as the user nobody, who cannot read %s: chmod -R o+rX datasets)",
               l + 5);
      fprintf(stderr, "grade: warning: the user nobody cannot read %s; tests that need it will fail\n",
              l + 5);
    } else {
      const char *what = strchr(l, ' '); /* "prog /abs/path": the kind, then the path */
      config_error("tests run as the user nobody (uid %d), who cannot reach '%s'; "
                   "give it access (chmod o+rX on it and the folders above it)",
                   (int)lim->uid, what ? what + 1 : l);
    }
  }
  free(problems);
}

/* `PROGRAM --list` of each program, sandboxed: it runs only the program's start-up,
 * so a failure there is the submission's (a constructor) and fails its tests. */
static void list_tests(const limits *lim, program *progs, int nprogs) {
  for (int k = 0; k < nprogs; k++) {
    char *list_argv[] = {progs[k].path, "--list", NULL};
    run_result r = run_sandboxed(list_argv, false, lim, LIST_TIME_LIMIT);
    bool ok = r.started && !r.timed_out && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
    if (ok) {
      progs[k].listing = r.out;
      r.out = NULL;
    } else {
      graded_test probe = {0};
      copy_str(probe.suite, sizeof probe.suite, "-"), copy_str(probe.name, sizeof probe.name, "-");
      result why = judge(&probe, &r, lim, NULL);
      snprintf(progs[k].failure, sizeof progs[k].failure,
               "the test program failed before any test ran: %s", why.feedback);
    }
    run_free(&r);
  }
}

/* One graded test: BIN --filter SUITE/NAME, sandboxed, then judged. */
static result run_test(const graded_test *t, const program *p, const limits *lim, const char *data_note) {
  char filter[300], timeout[32];
  snprintf(filter, sizeof filter, "%s/%s", t->suite, t->name);
  snprintf(timeout, sizeof timeout, "%g", lim->time_limit);
  char *test_argv[] = {(char *)p->path, "--filter", filter, "@JSON", "-j1", "--timeout", timeout, NULL};
  run_result r = {0};
  if (!p->failure[0]) r = run_sandboxed(test_argv, t->gpu, lim, lim->time_limit);
  result res = judge(t, &r, lim, p->failure[0] ? p->failure : NULL);
  if (res.v == FAILED && data_note[0] && strlen(res.feedback) + strlen(data_note) < sizeof res.feedback)
    strcat(res.feedback, data_note);
  run_free(&r);
  return res;
}

/* As root the tests run as nobody, and Criterion opens its own program by its full
 * path, so every folder above the program must be open to nobody. A repository
 * inside a private folder (mktemp -d) is not: copy the programs into a folder of
 * the grader's own that nobody may read. They still run with the repository as
 * their working directory, so relative paths (datasets/) work as before. */
static bool copy_program(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
  char buf[1 << 16];
  size_t got;
  bool ok = in && out;
  while (ok && (got = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, got, out) == got;
  if (in) fclose(in);
  if (out && fclose(out) != 0) ok = false;
  return ok && chmod(to, 0755) == 0;
}

static void stage_programs(program *progs, int nprogs, char *dir) {
  strcpy(dir, "/tmp/nn-grade-bin-XXXXXX");
  if (!mkdtemp(dir) || chmod(dir, 0755) != 0) {
    dir[0] = '\0';
    return; /* the reach check below then says what nobody cannot reach */
  }
  for (int k = 0; k < nprogs; k++) {
    char to[PATH_MAX];
    snprintf(to, sizeof to, "%s/%d-%s", dir, k, strrchr(progs[k].path, '/') ? strrchr(progs[k].path, '/') + 1
                                                                               : progs[k].path);
    if (copy_program(progs[k].path, to)) copy_str(progs[k].path, sizeof progs[k].path, to);
  }
}

int main(int argc, char **argv) {
  options o = parse_args(argc, argv);
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) perror("grade: PR_SET_CHILD_SUBREAPER");
  static graded_test tests[MAX_TESTS];
  static result res[MAX_TESTS];
  int n = read_manifests(&o, tests);

  if (o.build_log && !config_errors) {
    judge_build_failure(o.build_log, res, n);
    printf("Grading %s: the code did not build, so every test fails\n\n", o.chapter);
    int width = print_table_header(tests, n);
    for (int i = 0; i < n; i++) print_row(width, &tests[i], &res[i]);
    return finish(o.chapter, o.results_path, tests, res, n, 0);
  }

  choose_user(&o.lim);
  static program progs[MAX_TESTS];
  int prog_of[MAX_TESTS];
  int nprogs = collect_programs(tests, n, o.chapter, progs, prog_of);
  char staged[64] = "";
  if (o.lim.drop && !config_errors) stage_programs(progs, nprogs, staged);
  char data_note[400] = "";
  if (o.lim.drop && !config_errors) check_reach(&o.lim, progs, nprogs, data_note, sizeof data_note);
  if (!config_errors) list_tests(&o.lim, progs, nprogs);
  for (int i = 0; i < n && !config_errors; i++) {
    const program *p = &progs[prog_of[i]];
    if (p->listing && !listed(p->listing, tests[i].suite, tests[i].name))
      config_error("%s: %s has no test %s::%s (see `%s --list`)", tests[i].where, p->path,
                   tests[i].suite, tests[i].name, p->path);
  }
  if (config_errors) {
    if (staged[0]) remove_tree(staged);
    fprintf(stderr, "grade: %d error%s in the autograder's setup; nothing was graded\n",
            config_errors, config_errors == 1 ? "" : "s");
    return 2;
  }

  double total_points = 0, start = now();
  for (int i = 0; i < n; i++) total_points += tests[i].points;
  printf("Grading %s: %d tests, %g points (limits: %g s, %ld MB, %ld KB of output%s)\n\n", o.chapter,
         n, total_points, o.lim.time_limit, o.lim.mem_mb, o.lim.output_kb,
         o.lim.drop ? "; run as the user nobody" : "");
  int width = print_table_header(tests, n);
  for (int i = 0; i < n; i++) {
    res[i] = run_test(&tests[i], &progs[prog_of[i]], &o.lim, data_note);
    print_row(width, &tests[i], &res[i]);
  }
  for (int k = 0; k < nprogs; k++) free(progs[k].listing);
  if (staged[0]) remove_tree(staged);
  return finish(o.chapter, o.results_path, tests, res, n, now() - start);
}
