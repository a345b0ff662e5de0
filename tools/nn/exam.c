/* nn exam: drills for the exam, generated from a seed, checked, with the worked solution.
 *
 *   nn exam [--topic T] [--framework pytorch|keras] [--count N] [--seed S]
 *   nn exam --print   ...   the problem sheet, markdown, on stdout
 *   nn exam --answers ...   its key with worked solutions (--format lines: one answer a line)
 *   nn exam --list          the families and how many kinds of question each asks
 *
 * The same seed, topic, framework and count give the same sheet. The answers come
 * from exam_values.c (in double, checked against the library's float32 code) and
 * exam_shapes.c (the library's shape calculators); this file picks the problems,
 * asks, reads, checks and keeps the score.
 *
 * Asked in a terminal, a line that is not an answer is asked again; with stdin
 * from a file or a pipe each line is one answer, and each problem ends with a
 * line a script can read: `result 3 correct` or
 * `result 4 wrong expected=(64, 13, 13) got=(64, 12, 12)`, the run with `score 7/10`.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "exam.h"
#include "nn_common.h"

static const char *const TOPICS[] = {"conv",       "pool", "rnn",       "attention", "activation",
                                     "loss",       "optimizer", "metrics", "rl"};
enum { N_TOPICS = sizeof TOPICS / sizeof TOPICS[0], MAX_FAMILIES = 64, MAX_COUNT = 1000 };

/* ---- text and answers, for the families */

static void append(char *buf, size_t size, const char *fmt, va_list ap) {
  size_t used = strlen(buf);
  if (used + 1 < size) vsnprintf(buf + used, size - used, fmt, ap);
}

void exam_ask(exam_problem *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  append(p->question, sizeof p->question, fmt, ap);
  va_end(ap);
}

void exam_step(exam_problem *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  append(p->worked, sizeof p->worked, fmt, ap);
  va_end(ap);
  size_t used = strlen(p->worked);
  if (used + 1 < sizeof p->worked) p->worked[used] = '\n', p->worked[used + 1] = '\0';
}

void exam_answer_int(exam_problem *p, long v) {
  p->answer = (exam_answer){.kind = EXAM_INT, .n = 1, .v = {(double)v}};
}

void exam_answer_shape(exam_problem *p, int n, const long *dims) {
  if (n < 1 || n > EXAM_MAX_VALUES) nn_panic("exam_answer_shape: %d dims (1..%d)", n, EXAM_MAX_VALUES);
  p->answer = (exam_answer){.kind = EXAM_SHAPE, .n = n};
  for (int i = 0; i < n; i++) p->answer.v[i] = (double)dims[i];
}

void exam_answer_real(exam_problem *p, double v) {
  p->answer = (exam_answer){.kind = EXAM_REAL, .n = 1, .v = {v}};
}

void exam_answer_vector(exam_problem *p, int n, const double *v) {
  if (n < 1 || n > EXAM_MAX_VALUES) nn_panic("exam_answer_vector: %d values (1..%d)", n, EXAM_MAX_VALUES);
  p->answer = (exam_answer){.kind = EXAM_VECTOR, .n = n};
  for (int i = 0; i < n; i++) p->answer.v[i] = v[i];
}

/* 5 significant digits: within 1e-5 relative, far inside the tolerance, so a key read back is
 * right, and float round-off (0.6 computed as 0.600001) does not show */
static void real_str(double v, char *buf, int size) {
  if (fabs(v) < 5e-12) v = 0; /* no "-0" and no 1e-17 from a sum that cancels */
  snprintf(buf, size, "%.5g", v);
}

void exam_answer_str(const exam_answer *a, char *buf, int size) {
  int used = 0;
  buf[0] = '\0';
  switch (a->kind) {
  case EXAM_INT: snprintf(buf, size, "%.0f", a->v[0]); return;
  case EXAM_REAL: real_str(a->v[0], buf, size); return;
  case EXAM_SHAPE:
    used += snprintf(buf, size, "(");
    for (int i = 0; i < a->n && used < size; i++)
      used += snprintf(buf + used, size - used, "%s%.0f", i ? ", " : "", a->v[i]);
    if (used < size) snprintf(buf + used, size - used, ")");
    return;
  case EXAM_VECTOR:
    for (int i = 0; i < a->n && used < size; i++) {
      char one[32];
      real_str(a->v[i], one, sizeof one);
      used += snprintf(buf + used, size - used, "%s%s", i ? ", " : "", one);
    }
    return;
  }
}

/* ---- nice numbers */

int exam_int(nn_rng *r, int lo, int hi) { return lo + (int)nn_rng_below(r, (uint32_t)(hi - lo + 1)); }

double exam_tenths(nn_rng *r, double lo, double hi) {
  int a = (int)lround(lo * 10), b = (int)lround(hi * 10);
  return exam_int(r, a, b) / 10.0;
}

int exam_pick(nn_rng *r, int n, const int *from) { return from[nn_rng_below(r, (uint32_t)n)]; }

/* ---- reading an answer */

static const char *kind_hint(const exam_answer *a, char *buf, int size) {
  switch (a->kind) {
  case EXAM_INT: return "(an integer)";
  case EXAM_SHAPE: return "(a shape, batch axis first: written (a, b, c), axbxc or a b c)";
  case EXAM_REAL:
    return "(a number; accepted within 0.1 % or 1e-4 absolute, so 4 significant digits do)";
  case EXAM_VECTOR:
    snprintf(buf, size, "(%d numbers separated by commas; each accepted within 0.1 %% or 1e-4 absolute)", a->n);
    return buf;
  }
  return "";
}

/* One real: "0.8176", "-2", "7/9", "75%". */
static bool parse_real(const char *s, const char *end, double *out) {
  char tok[64];
  size_t len = (size_t)(end - s);
  if (len == 0 || len >= sizeof tok) return false;
  memcpy(tok, s, len), tok[len] = '\0';
  char *e;
  double v = strtod(tok, &e);
  if (e == tok) return false;
  if (*e == '/') {
    char *e2;
    double d = strtod(e + 1, &e2);
    if (e2 == e + 1 || d == 0) return false;
    v /= d, e = e2;
  } else if (*e == '%') {
    v /= 100, e++;
  }
  if (*e != '\0' || !isfinite(v)) return false;
  *out = v;
  return true;
}

static bool is_sep(unsigned char c, exam_answer_kind kind) {
  if (isspace(c) || c == ',' || c == ';' || c == '(' || c == ')' || c == '[' || c == ']') return true;
  return kind == EXAM_SHAPE && (c == 'x' || c == 'X' || c == '*');
}

/* The student's text as an answer of the expected kind; false (and why) when it is not one. */
static bool parse_answer(const char *text, const exam_answer *want, exam_answer *got, char *why, int size) {
  *got = (exam_answer){.kind = want->kind};
  if (want->kind == EXAM_INT || want->kind == EXAM_REAL) {
    char clean[128];
    int n = 0;
    for (const char *c = text; *c && n < (int)sizeof clean - 1; c++)
      if (!isspace((unsigned char)*c) && !(want->kind == EXAM_INT && (*c == ',' || *c == '_'))) clean[n++] = *c;
    clean[n] = '\0';
    double v;
    if (!parse_real(clean, clean + n, &v) || (want->kind == EXAM_INT && v != floor(v))) {
      snprintf(why, size, "'%.200s' is not %s", text, want->kind == EXAM_INT ? "an integer" : "a number");
      return false;
    }
    got->n = 1, got->v[0] = v;
    return true;
  }
  /* SHAPE or VECTOR: numbers between separators; "×" (UTF-8 C3 97) counts as x */
  const unsigned char *c = (const unsigned char *)text;
  while (*c) {
    if (is_sep(*c, want->kind)) { c++; continue; }
    if (want->kind == EXAM_SHAPE && c[0] == 0xC3 && c[1] == 0x97) { c += 2; continue; }
    const unsigned char *start = c;
    while (*c && !is_sep(*c, want->kind) && !(c[0] == 0xC3 && c[1] == 0x97)) c++;
    double v;
    if (got->n == EXAM_MAX_VALUES || !parse_real((const char *)start, (const char *)c, &v) ||
        (want->kind == EXAM_SHAPE && (v != floor(v) || v < 0))) {
      snprintf(why, size, "'%.200s' is not %s", text,
               want->kind == EXAM_SHAPE ? "a shape such as (32, 26, 26)" : "a list of numbers");
      return false;
    }
    got->v[got->n++] = v;
  }
  if (got->n == 0) {
    snprintf(why, size, "no numbers in '%.200s'", text);
    return false;
  }
  return true;
}

bool exam_answer_correct(const exam_answer *want, const exam_answer *got) {
  if (got->n != want->n) return false;
  for (int i = 0; i < want->n; i++) {
    double e = want->v[i], g = got->v[i];
    if (want->kind == EXAM_INT || want->kind == EXAM_SHAPE) {
      if (g != e) return false;
    } else if (!(fabs(g - e) <= fmax(EXAM_ABS_TOL, EXAM_REL_TOL * fabs(e)))) {
      return false;
    }
  }
  return true;
}

/* ---- choosing the problems */

typedef struct {
  const exam_family *f[MAX_FAMILIES];
  int n;
} family_list;

static family_list all_families(void) {
  family_list l = {.n = 0};
  int n;
  const exam_family *(*tables[])(int *) = {exam_shape_families, exam_value_families};
  for (int t = 0; t < 2; t++) {
    const exam_family *fs = tables[t](&n);
    for (int i = 0; i < n && l.n < MAX_FAMILIES; i++) l.f[l.n++] = &fs[i];
  }
  return l;
}

static family_list of_topic(const family_list *all, const char *topic) {
  family_list l = {.n = 0};
  for (int i = 0; i < all->n; i++)
    if (!strcmp(all->f[i]->topic, topic)) l.f[l.n++] = all->f[i];
  return l;
}

/* Problem i: with one topic, its families in a shuffled round; with all, the
 * topics in a shuffled round, one family of each at random. No question twice. */
static void generate(uint64_t seed, const char *topic, nn_framework fw, int count, exam_problem *probs) {
  nn_rng r = nn_rng_new(seed);
  family_list all = all_families(), mine = of_topic(&all, topic);
  bool every = !strcmp(topic, "all");
  int order[MAX_FAMILIES];
  int round = every ? N_TOPICS : mine.n;
  for (int i = 0; i < count; i++) {
    if (i % round == 0) nn_rng_permutation(&r, order, round);
    const exam_family *f;
    if (every) {
      family_list t = of_topic(&all, TOPICS[order[i % round]]);
      for (int k = 1; t.n == 0; k++) t = of_topic(&all, TOPICS[order[(i + k) % round]]);
      f = t.f[nn_rng_below(&r, (uint32_t)t.n)];
    } else {
      f = mine.f[order[i % round]];
    }
    for (int attempt = 0;; attempt++) {
      if (attempt > 0 && attempt % 5 == 0) { /* this family has run out of new questions: another of the topic */
        family_list t = of_topic(&all, f->topic);
        f = t.f[nn_rng_below(&r, (uint32_t)t.n)];
      }
      exam_problem *p = &probs[i];
      memset(p, 0, sizeof *p);
      p->topic = f->topic, p->family = f->name;
      f->make(&r, fw, p);
      bool repeated = false;
      for (int j = 0; j < i && !repeated; j++) repeated = !strcmp(probs[j].question, p->question);
      if (!repeated || attempt == 20) break;
    }
  }
}

/* ---- the three ways out: a sheet, its key, a session */

typedef struct {
  uint64_t seed;
  const char *topic, *framework_name;
  nn_framework fw;
  int count;
  bool print, answers, lines, show_answers, list;
} exam_options;

static void print_indented(const char *text, const char *indent) {
  for (const char *line = text; *line;) {
    const char *nl = strchr(line, '\n');
    int len = nl ? (int)(nl - line) : (int)strlen(line);
    printf("%s%.*s\n", indent, len, line);
    line += len + (nl != NULL);
  }
}

static void print_sheet(const exam_options *o, const exam_problem *probs, bool key) {
  char hint[160], ans[256];
  printf("# nn exam%s: %d problem%s\n\n", key ? " answer key" : "", o->count, o->count == 1 ? "" : "s");
  printf("Seed %llu, topic %s, framework %s. %s `nn exam --seed %llu --topic %s --framework %s --count %d%s`.\n",
         (unsigned long long)o->seed, o->topic, o->framework_name, key ? "The sheet:" : "Answers:",
         (unsigned long long)o->seed, o->topic, o->framework_name, o->count, key ? " --print" : " --answers");
  printf("Reals are accepted within 0.1 %% (relative) or 1e-4 (absolute); integers and shapes exactly.\n");
  for (int i = 0; i < o->count; i++) {
    const exam_problem *p = &probs[i];
    printf("\n## %d. %s (%s)\n\n", i + 1, p->topic, p->family);
    printf("%s\n", p->question);
    if (!key) {
      printf("\n*Answer %s:*\n", kind_hint(&p->answer, hint, sizeof hint));
      continue;
    }
    exam_answer_str(&p->answer, ans, sizeof ans);
    printf("\n**Answer: %s**\n\n```text\n%s```\n", ans, p->worked);
  }
}

/* One answer line, byte by byte up to its newline: the rest of a line longer than buf is
 * dropped (never read as the next answer), and a NUL byte, which would end the string
 * early, is kept as '?' so the answer is wrong, not shifted. False at the end of input. */
static bool read_line(char *buf, int size) {
  int c, n = 0;
  bool any = false;
  while ((c = getchar()) != EOF) {
    any = true;
    if (c == '\n') break;
    if (n < size - 1) buf[n++] = c ? (char)c : '?';
  }
  if (!any) return false;
  buf[n] = '\0';
  while (n > 0 && isspace((unsigned char)buf[n - 1])) buf[--n] = '\0';
  char *s = buf;
  while (isspace((unsigned char)*s)) s++;
  memmove(buf, s, strlen(s) + 1);
  return true;
}

static int run_session(const exam_options *o, const exam_problem *probs) {
  bool tty = isatty(STDIN_FILENO);
  int correct = 0, asked = 0, right[N_TOPICS] = {0}, total[N_TOPICS] = {0};
  char line[1024], hint[160], want[256], why[512];
  printf("nn exam: %d problem%s, topic %s, framework %s, seed %llu\n", o->count, o->count == 1 ? "" : "s",
         o->topic, o->framework_name, (unsigned long long)o->seed);
  if (tty) printf("Type the answer and Enter; 'skip' shows the solution, 'quit' stops.\n");
  for (int i = 0; i < o->count; i++) {
    const exam_problem *p = &probs[i];
    exam_answer_str(&p->answer, want, sizeof want);
    printf("\nProblem %d/%d  [%s: %s]\n%s\n%s\n", i + 1, o->count, p->topic, p->family, p->question,
           kind_hint(&p->answer, hint, sizeof hint));
    if (o->show_answers) printf("answer %d %s\n", i + 1, want);
    exam_answer got;
    bool have = false, quit = false;
    for (;;) {
      printf("> ");
      fflush(stdout);
      if (!read_line(line, sizeof line)) { quit = true; break; }
      if (!tty) printf("%s\n", line);
      if (!strcmp(line, "quit") || !strcmp(line, "q")) { quit = true; break; }
      if (!strcmp(line, "skip")) break;
      if (line[0] == '\0' && tty) continue;
      have = parse_answer(line, &p->answer, &got, why, sizeof why);
      if (have || !tty) break;
      printf("%s; answer %s, 'skip' or 'quit'\n", why, kind_hint(&p->answer, hint, sizeof hint));
    }
    if (quit) {
      printf("\n(stopped after %d of %d problems; the rest count as not answered)\n", asked, o->count);
      break;
    }
    asked++;
    int t = 0;
    while (t < N_TOPICS - 1 && strcmp(TOPICS[t], p->topic)) t++;
    total[t]++;
    bool ok = have && exam_answer_correct(&p->answer, &got);
    char gots[256] = "";
    if (have) exam_answer_str(&got, gots, sizeof gots);
    else snprintf(gots, sizeof gots, "%.200s", line);
    if (ok) printf("✓ correct: %s\n", want);
    else if (!strcmp(line, "skip")) printf("✗ skipped: the answer is %s\n", want);
    else printf("✗ wrong: the answer is %s%s%s\n", want, gots[0] ? "; you wrote " : "", gots);
    printf("Worked solution:\n");
    print_indented(p->worked, "    ");
    if (!tty) printf("result %d %s", i + 1, ok ? "correct\n" : "wrong expected=");
    if (!tty && !ok) printf("%s got=%s\n", want, gots[0] ? gots : "(none)");
    correct += ok, right[t] += ok;
  }
  printf("\nscore %d/%d\n", correct, o->count);
  for (int t = 0; t < N_TOPICS; t++)
    if (total[t]) printf("  %-10s %d/%d\n", TOPICS[t], right[t], total[t]);
  if (asked < o->count) /* so the topics' counts add up to the total */
    printf("  %-10s 0/%d\n", "not answered", o->count - asked);
  return 0;
}

static int list_families(void) {
  family_list all = all_families();
  int variants = 0;
  printf("%-10s  %-18s  %8s  %s\n", "topic", "family", "variants", "asks");
  for (int t = 0; t < N_TOPICS; t++) {
    family_list l = of_topic(&all, TOPICS[t]);
    for (int i = 0; i < l.n; i++) {
      printf("%-10s  %-18s  %8d  %s\n", l.f[i]->topic, l.f[i]->name, l.f[i]->variants, l.f[i]->what);
      variants += l.f[i]->variants;
    }
  }
  printf("%d families, %d variants\n", all.n, variants);
  return 0;
}

static int usage(FILE *out) {
  fprintf(out,
          "usage: nn exam [--topic T] [--framework pytorch|keras] [--count N] [--seed S]\n"
          "               [--print | --answers [--format markdown|lines] | --show-answers | --list]\n"
          "  --topic        conv, pool, rnn, attention, activation, loss, optimizer, metrics, rl, all (default all)\n"
          "  --framework    whose conventions and defaults: pytorch (default) or keras\n"
          "  --count        how many problems (default 10, at most %d)\n"
          "  --seed         the same seed gives the same problems (default: from the clock, printed)\n"
          "  --print        the problem sheet in markdown, for instructors; --answers its key\n"
          "  --format lines with --answers: one answer a line, what a script feeds back on stdin\n"
          "  --show-answers print each answer with its question (`answer 3 (64, 13, 13)`)\n"
          "  --list         the problem families and how many variants each asks\n"
          "Without --print/--answers the problems are asked one by one on stdin; from a pipe\n"
          "each line is one answer and each problem ends with `result N correct|wrong ...`.\n",
          MAX_COUNT);
  return out == stderr ? 2 : 0;
}

static int bad_choice(const char *what, const char *value, const char *choices) {
  fprintf(stderr, "nn exam: no %s '%s'; the %ss are: %s\n", what, value, what, choices);
  return 2;
}

int cmd_exam(int argc, char **argv) {
  exam_options o = {.seed = (uint64_t)time(NULL) % 100000, .topic = "all", .framework_name = "pytorch",
                    .fw = NN_PYTORCH, .count = 10};
  const char *format = "markdown";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = !strcmp(a, "--seed") || !strcmp(a, "--topic") || !strcmp(a, "--framework") ||
                 !strcmp(a, "--count") || !strcmp(a, "--format");
    if (takes && !v) {
      fprintf(stderr, "nn exam: %s needs a value\n", a);
      return usage(stderr);
    }
    if (takes) i++;
    char *end;
    if (!strcmp(a, "--seed")) {
      errno = 0;
      o.seed = strtoull(v, &end, 10);
      if (*end || v[0] == '-' || !v[0] || errno == ERANGE) {
        fprintf(stderr, "nn exam: --seed %s: the seed is a whole number from 0 to %llu\n", v, ULLONG_MAX);
        return 2;
      }
    } else if (!strcmp(a, "--count")) {
      long n = strtol(v, &end, 10);
      if (*end || n < 1 || n > MAX_COUNT) {
        fprintf(stderr, "nn exam: --count %s: give a number of problems from 1 to %d\n", v, MAX_COUNT);
        return 2;
      }
      o.count = (int)n;
    } else if (!strcmp(a, "--topic")) {
      o.topic = v;
    } else if (!strcmp(a, "--framework")) {
      nn_error err = {0}; /* the names nn summary takes too: pytorch/torch, keras/tf/tensorflow, any case */
      if (nn_framework_parse(v, &o.fw, &err) != NN_OK) return bad_choice("framework", v, "pytorch, keras");
      o.framework_name = nn_framework_name(o.fw);
    } else if (!strcmp(a, "--format")) {
      if (strcmp(v, "markdown") && strcmp(v, "lines")) return bad_choice("format", v, "markdown, lines");
      format = v;
    } else if (!strcmp(a, "--print")) {
      o.print = true;
    } else if (!strcmp(a, "--answers")) {
      o.answers = true;
    } else if (!strcmp(a, "--show-answers")) {
      o.show_answers = true;
    } else if (!strcmp(a, "--list")) {
      o.list = true;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      return usage(stdout);
    } else {
      fprintf(stderr, "nn exam: unknown option '%s'\n", a);
      return usage(stderr);
    }
  }
  o.lines = !strcmp(format, "lines");
  if (o.list) return list_families();

  bool known_topic = !strcmp(o.topic, "all");
  for (int t = 0; t < N_TOPICS; t++) known_topic |= !strcmp(o.topic, TOPICS[t]);
  if (!known_topic) {
    char known[256] = "";
    for (int t = 0; t < N_TOPICS; t++) strcat(strcat(known, TOPICS[t]), ", ");
    strcat(known, "all");
    return bad_choice("topic", o.topic, known);
  }
  family_list all = all_families(), mine = of_topic(&all, o.topic);
  if (all.n == 0 || (strcmp(o.topic, "all") && mine.n == 0)) {
    fprintf(stderr, "nn exam: this build has no problems on '%s' yet\n", o.topic);
    return 2;
  }
  if (o.lines && !o.answers) {
    fprintf(stderr, "nn exam: --format lines goes with --answers (one answer a line)\n");
    return 2;
  }

  exam_problem *probs = nn_xcalloc((size_t)o.count, sizeof *probs, "nn exam: the problems");
  generate(o.seed, o.topic, o.fw, o.count, probs);
  int rc = 0;
  if (o.lines) {
    char ans[256];
    for (int i = 0; i < o.count; i++) {
      exam_answer_str(&probs[i].answer, ans, sizeof ans);
      printf("%s\n", ans);
    }
  } else if (o.print || o.answers) {
    if (o.print) print_sheet(&o, probs, false);
    if (o.print && o.answers) printf("\n\n");
    if (o.answers) print_sheet(&o, probs, true);
  } else {
    rc = run_session(&o, probs);
  }
  free(probs);
  return rc;
}
