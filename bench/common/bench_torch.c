/* bench_torch.c: timing into images/s, and PyTorch as a child process. */
#include "bench_torch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn_progress.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

enum { MAX_REPS = 32 };

bench_rate bench_rate_of(void (*step)(void *ctx, int i), void *ctx, const bench_plan *plan) {
  int i = 0;
  for (; i < plan->warmup; i++) step(ctx, i);
  double per_s[MAX_REPS], spent = 0;
  int runs = 0;
  while (runs < plan->reps && runs < MAX_REPS && (runs == 0 || spent < plan->budget_s)) {
    double t0 = nn_seconds();
    for (int s = 0; s < plan->steps; s++, i++) step(ctx, i);
    double seconds = nn_seconds() - t0;
    spent += seconds;
    per_s[runs++] = (double)plan->batch * plan->steps / seconds;
  }
  qsort(per_s, runs, sizeof per_s[0], cmp_double);
  return (bench_rate){per_s[runs - 1], runs % 2 ? per_s[runs / 2] : (per_s[runs / 2 - 1] + per_s[runs / 2]) / 2};
}

void bench_header(void) { printf("  %-48s %10s %10s\n", "config", "best", "median"); }

void bench_row(const char *config, bench_rate r) {
  printf("  %-48s %10.0f %10.0f\n", config, r.best, r.median);
  fflush(stdout);
}

/* A python3 that can import torch: $PYTHON, else python3 on the PATH, else Debian's
 * /usr/bin/python3 (a pyenv or venv python3 first on the PATH may lack torch).
 * Returns NULL and says why in note when there is none. find_spec does not load
 * torch, so asking costs a fraction of a second. */
static const char *find_python(char *note, size_t size) {
  const char *env = getenv("PYTHON");
  const char *cands[] = {env && env[0] ? env : "python3", "python3", "/usr/bin/python3"};
  bool any_python = false;
  char cmd[512];
  for (int i = 0; i < 3; i++) {
    snprintf(cmd, sizeof cmd, "%s -c 'import importlib.util, sys; "
             "sys.exit(importlib.util.find_spec(\"torch\") is None)' >/dev/null 2>&1", cands[i]);
    int status = system(cmd);
    if (status == 0) return cands[i];
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1) any_python = true;
  }
  snprintf(note, size, "%s", any_python ? "PyTorch not installed (apt-get install python3-torch); skipped"
                                        : "python3 not found (apt-get install python3 python3-torch); skipped");
  return NULL;
}

/* One PyTorch thread setting: torch's intra-op threads, its BLAS's threads, and
 * whether idle OpenMP workers sleep (OMP_WAIT_POLICY=passive) instead of spinning. */
typedef struct {
  int torch, blas;
  bool passive;
} torch_config;

/* What the script said: its rates, its description of torch, the threads it got, or why it could not run. */
typedef struct {
  bench_rate r;
  int got_torch, got_blas;
  char about[512], note[256];
} torch_run;

static void chomp(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
}

/* dst = src, cut to fit size bytes with its '\0'. */
static void copy_text(char *dst, size_t size, const char *src) {
  size_t n = strlen(src);
  if (n >= size) n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* Runs the script with config c (the BLAS reads its thread count from the
 * environment when it loads) and reads its lines. */
static torch_run run_torch(const char *python, const char *script, const char *args, torch_config c) {
  torch_run t = {0};
  char cmd[1024], line[1024], last[256] = "";
  snprintf(cmd, sizeof cmd, "OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d %s %s %s --threads %d %s 2>&1", c.blas,
           c.torch, c.passive ? "OMP_WAIT_POLICY=passive" : "", python, script, c.torch, args);
  fflush(stdout);
  FILE *p = popen(cmd, "r");
  if (!p) {
    snprintf(t.note, sizeof t.note, "could not start %s; skipped", python);
    return t;
  }
  while (fgets(line, sizeof line, p)) {
    chomp(line);
    if (strncmp(line, "images_per_s ", 13) == 0) sscanf(line + 13, "%lf %lf", &t.r.best, &t.r.median);
    else if (strncmp(line, "threads ", 8) == 0) sscanf(line + 8, "%d %d", &t.got_torch, &t.got_blas);
    else if (strncmp(line, "about ", 6) == 0) copy_text(t.about, sizeof t.about, line + 6);
    else if (strncmp(line, "skip ", 5) == 0) copy_text(t.note, sizeof t.note, line + 5);
    else if (line[0]) copy_text(last, sizeof last, line);
  }
  int status = pclose(p);
  if (t.r.best > 0 || t.note[0]) return t;
  snprintf(t.note, sizeof t.note, "%s %s failed (exit %d): %s; skipped", python, script,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1, last[0] ? last : "no output");
  return t;
}

/* The python3 to run script with, or NULL after saying why in res->note. */
static const char *python_for(const char *script, bench_torch_result *res) {
  if (access(script, R_OK) != 0) {
    snprintf(res->note, sizeof res->note, "%s not found (run from the repository root); skipped", script);
    return NULL;
  }
  return find_python(res->note, sizeof res->note);
}

bench_torch_result bench_torch_all(const char *script, const char *args) {
  /* With 2 torch threads, idle OpenMP workers spin by default; on 2 busy cores that
   * costs torch dearly, so that split also runs with them asleep, and torch keeps its best. */
  static const torch_config SPLITS[] = {{1, 1, false}, {2, 1, false}, {2, 1, true}, {1, 2, false}};
  enum { N_SPLITS = (int)(sizeof SPLITS / sizeof SPLITS[0]) };
  bench_torch_result res = {0};
  const char *python = python_for(script, &res);
  for (int i = 0; i < N_SPLITS && python; i++) {
    torch_config c = SPLITS[i];
    torch_run t = run_torch(python, script, args, c);
    if (t.note[0]) {
      snprintf(res.note, sizeof res.note, "%s", t.note);
      break;
    }
    if (!res.about[0]) snprintf(res.about, sizeof res.about, "%s", t.about);
    char name[96];
    int n = snprintf(name, sizeof name, "PyTorch, threads torch %d : BLAS %d%s", c.torch, c.blas,
                     c.passive ? ", OMP passive" : "");
    if (t.got_torch != c.torch || t.got_blas != c.blas)
      snprintf(name + n, sizeof name - n, " (got %d : %d)", t.got_torch, t.got_blas);
    bench_row(name, t.r);
    if (t.r.best > res.best) res.best = t.r.best, snprintf(res.best_name, sizeof res.best_name, "%s", name);
    if (t.r.median > res.median) res.median = t.r.median;
  }
  if (res.about[0]) printf("PyTorch: %s\n", res.about);
  return res;
}

bench_torch_result bench_torch_gpu(const char *script, const char *args) {
  bench_torch_result res = {0};
  const char *python = python_for(script, &res);
  if (!python) return res;
  char gpu_args[512];
  snprintf(gpu_args, sizeof gpu_args, "%s --device cuda", args);
  torch_run t = run_torch(python, script, gpu_args, (torch_config){1, 1, false});
  if (t.note[0]) {
    snprintf(res.note, sizeof res.note, "%s", t.note);
    return res;
  }
  snprintf(res.best_name, sizeof res.best_name, "PyTorch CUDA");
  bench_row(res.best_name, t.r);
  res.best = t.r.best, res.median = t.r.median;
  snprintf(res.about, sizeof res.about, "%s", t.about);
  printf("PyTorch: %s\n", res.about);
  return res;
}

void bench_report_gpu_ratio(double ours_best, double ours_median, const bench_torch_result *t) {
  if (t->best <= 0) {
    printf("GPU: %s\nGPU: ours best / PyTorch CUDA best: no ratio without PyTorch on the GPU\n", t->note);
    return;
  }
  printf("GPU: ours best / PyTorch CUDA best = %.2fx; medians %.2fx\n", ours_best / t->best, ours_median / t->median);
}

void bench_report_ratio(double ours_best, double ours_median, const char *ours_name, const bench_torch_result *t,
                        double target) {
  if (t->best <= 0) {
    printf("%s\n", t->note);
    printf("ours best / torch best: no ratio without PyTorch\n");
    return;
  }
  double ratio = ours_best / t->best;
  printf("ours best / torch best = %.2fx  (%s vs %s)\n", ratio, ours_name, t->best_name);
  printf("ours median / torch median = %.2fx  (each side's config with the best median; steadier on a "
         "busy machine)\n", ours_median / t->median);
  printf("target (ours >= %.2fx PyTorch): %s\n", target, ratio >= target ? "met" : "NOT met");
}
