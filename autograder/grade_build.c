/* grade_build.c: take, build, check and link a submission (grade_build.h). */
#define _GNU_SOURCE
/* Messages are cut to fit their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grade_build.h"
#include "grade_proc.h"
#include "grade_text.h"

enum { MAX_SOURCE = 1 << 20, MAX_STUBS = 32, MAX_ARGS = 256, MAX_LIST = 1 << 20 };

/* ---- small file helpers: trusted kit files, or student files opened without following links */

/* A regular file's first max bytes, NUL-terminated, opened O_NOFOLLOW|O_NONBLOCK: a link, a
 * FIFO or a device in its place is refused. NULL and why[] on failure. */
static char *read_plain_file(const char *path, size_t max, size_t *len, char *why, size_t n) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    snprintf(why, n, "%s", errno == ELOOP ? "a symbolic link, not a file" : strerror(errno));
    if (fd >= 0) close(fd);
    return NULL;
  }
  if (!S_ISREG(st.st_mode) || st.st_size > (off_t)max) {
    snprintf(why, n, S_ISREG(st.st_mode) ? "larger than %zu bytes" : "not a regular file", max);
    close(fd);
    return NULL;
  }
  char *buf = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  for (ssize_t r; buf && got < (size_t)st.st_size && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0;)
    got += (size_t)r;
  close(fd);
  if (!buf) return NULL;
  buf[got] = '\0';
  if (len) *len = got;
  return buf;
}

static bool write_new_file(const char *path, const char *data, size_t len, int uid, int gid) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = write(fd, data, len) == (ssize_t)len;
  if (uid >= 0 && fchown(fd, (uid_t)uid, (gid_t)gid) != 0) ok = false;
  return close(fd) == 0 && ok;
}

/* The lines of a kit file, as an argv-like NULL-terminated list (freed by free_lines). */
static char **read_lines(const char *path, int *count) {
  char why[200];
  char *text = read_plain_file(path, MAX_LIST, NULL, why, sizeof why);
  if (!text) return NULL;
  int n = 0, cap = 64;
  char **lines = calloc((size_t)cap + 1, sizeof *lines);
  for (char *save, *l = strtok_r(text, "\n", &save); l && lines; l = strtok_r(NULL, "\n", &save)) {
    if (n == cap) {
      char **bigger = realloc(lines, ((size_t)(cap *= 2) + 1) * sizeof *lines);
      if (!bigger) break;
      lines = bigger;
    }
    lines[n++] = strdup(l);
  }
  if (lines) lines[n] = NULL;
  free(text);
  if (count) *count = n;
  return lines;
}

static void free_lines(char **lines) {
  for (char **l = lines; l && *l; l++) free(*l);
  free(lines);
}

static bool ends_with(const char *s, const char *tail) {
  size_t a = strlen(s), b = strlen(tail);
  return a >= b && strcmp(s + a - b, tail) == 0;
}

/* ---- objects: what readelf says of them */
typedef struct {
  char **defines, **refs; /* global symbols defined / referred to */
  int n_defines, n_refs;
  char sections[16][64];  /* the run-at-start/exit sections it has, and their sizes */
  long section_size[16];
  int n_sections;
  char ifunc[128];        /* the name of an ifunc symbol, if any */
} obj_summary;

static const char *const START_EXIT_SECTIONS[] = {".init_array", ".fini_array", ".preinit_array", ".ctors",
                                                  ".dtors", ".init", ".fini", NULL};

static void add_name(char ***list, int *n, const char *name) {
  for (int i = 0; i < *n; i++)
    if (strcmp((*list)[i], name) == 0) return;
  char **bigger = realloc(*list, (size_t)(*n + 1) * sizeof **list);
  if (!bigger) return;
  *list = bigger;
  (*list)[(*n)++] = strdup(name);
}

static bool has_name(char *const *list, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(list[i], name) == 0) return true;
  return false;
}

static void summary_free(obj_summary *s) {
  for (int i = 0; i < s->n_defines; i++) free(s->defines[i]);
  for (int i = 0; i < s->n_refs; i++) free(s->refs[i]);
  free(s->defines), free(s->refs);
  memset(s, 0, sizeof *s);
}

/* A run-at-start/exit section counts under its base name: a constructor with a priority,
 * __attribute__((constructor(101))), goes into ".init_array.00101", which runs all the same.
 * In an AddressSanitizer build (asan), the compiler's own module constructor and destructor,
 * one entry (8 bytes) each in ".init_array.00099" / ".fini_array.00099", are not the
 * student's: they are left out (a student's constructor(99) beside them makes 16 bytes). */
static void add_start_exit_section(obj_summary *s, const char *name, long size, bool asan) {
  for (int k = 0; START_EXIT_SECTIONS[k]; k++) {
    const char *base = START_EXIT_SECTIONS[k];
    size_t n = strlen(base);
    if (strncmp(name, base, n) != 0 || (name[n] != '\0' && name[n] != '.')) continue;
    if (asan && size == 8 && (strcmp(name, ".init_array.00099") == 0 || strcmp(name, ".fini_array.00099") == 0))
      return;
    for (int i = 0; i < s->n_sections; i++)
      if (strcmp(s->sections[i], base) == 0) {
        s->section_size[i] += size;
        return;
      }
    if (s->n_sections < 16) {
      snprintf(s->sections[s->n_sections], sizeof s->sections[0], "%.63s", base);
      s->section_size[s->n_sections++] = size;
    }
    return;
  }
}

/* `readelf -W -S -s` output -> summary. Section lines: "  [ 5] .init_array  INIT_ARRAY  addr off size ...";
 * symbol lines: "  9: 0000000000000000  54 FUNC  GLOBAL DEFAULT  1 nn_numel". */
static void parse_readelf(const char *text, obj_summary *s, bool asan) {
  for (const char *p = text; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    char line[1024];
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
    p = eol ? eol + 1 : NULL;
    const char *bracket = strchr(line, ']'), *first = line + strspn(line, " ");
    char name[512], type[64], bind[64], vis[64], ndx[64], addr[64], off[64], size[64];
    if (*first == '[' && bracket && sscanf(bracket + 1, " %511s %63s %63s %63s %63s", name, type, addr, off, size) == 5) {
      add_start_exit_section(s, name, strtol(size, NULL, 16), asan);
      continue;
    }
    int num;
    if (sscanf(line, " %d: %63s %63s %63s %63s %63s %63s %511s", &num, addr, size, type, bind, vis, ndx, name) != 8)
      continue;
    if (strcmp(bind, "GLOBAL") != 0 && strcmp(bind, "WEAK") != 0 && strcmp(bind, "UNIQUE") != 0) continue;
    if (strcmp(type, "IFUNC") == 0 && !s->ifunc[0]) snprintf(s->ifunc, sizeof s->ifunc, "%s", name);
    if (strcmp(ndx, "UND") == 0)
      add_name(&s->refs, &s->n_refs, name);
    else
      add_name(&s->defines, &s->n_defines, name);
  }
}

/* The summary the kit keeps (describe_object's lines). */
static void parse_summary_file(const char *path, obj_summary *s) {
  char **lines = read_lines(path, NULL);
  for (char **l = lines; l && *l; l++) {
    char kind[16], name[512];
    long size = 0;
    int k = sscanf(*l, "%15s %511s %ld", kind, name, &size);
    if (k >= 2 && strcmp(kind, "define") == 0) add_name(&s->defines, &s->n_defines, name);
    if (k >= 2 && strcmp(kind, "ref") == 0) add_name(&s->refs, &s->n_refs, name);
    if (k == 3 && strcmp(kind, "section") == 0 && s->n_sections < 16) {
      snprintf(s->sections[s->n_sections], sizeof s->sections[0], "%.63s", name);
      s->section_size[s->n_sections++] = size;
    }
  }
  free_lines(lines);
}

static const char *const SYSTEM_DIRS[] = {"/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc",
                                          "/dev/urandom", NULL};

/* readelf on path: as the grader when uid < 0 (a trusted kit file), else as that user under
 * Landlock (the student's object). NULL if it failed or said more than it may. */
static char *run_readelf(const char *path, int uid, int gid, const char *work) {
  const char *argv[] = {"/usr/bin/readelf", "-W", "-S", "-s", path, NULL};
  const char *env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL};
  const char *reads[16], *writes[] = {"/dev/null", NULL};
  int k = 0;
  for (; SYSTEM_DIRS[k]; k++) reads[k] = SYSTEM_DIRS[k];
  reads[k++] = work, reads[k] = NULL;
  proc_spec spec = {.argv = argv, .cwd = work, .env = env, .uid = uid, .gid = gid, .keep = 8 << 20,
                    .lim = {.mem_mb = 1024, .output_kb = 1024, .cpu_s = 30, .nproc = proc_nproc_limit(uid, 4)},
                    .landlock_read = uid >= 0 ? reads : NULL, .landlock_write = writes, .fds = {-1, -1}};
  proc p;
  bool ended = proc_run(&p, &spec, 60);
  bool whole = ended && WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0 && p.out_total == p.out_len;
  char *out = whole ? strdup(p.out) : NULL;
  proc_free(&p);
  return out;
}

int describe_object(const char *path) {
  char *text = run_readelf(path, -1, -1, ".");
  if (!text) {
    fprintf(stderr, "grade: readelf could not read %s\n", path);
    return 2;
  }
  obj_summary s = {0};
  parse_readelf(text, &s, false);
  for (int i = 0; i < s.n_defines; i++) printf("define %s\n", s.defines[i]);
  for (int i = 0; i < s.n_refs; i++) printf("ref %s\n", s.refs[i]);
  for (int i = 0; i < s.n_sections; i++) printf("section %s %ld\n", s.sections[i], s.section_size[i]);
  summary_free(&s);
  free(text);
  return 0;
}

/* Symbols any lab file may use besides the library's and its reference's: the C library's
 * memory, string, number and printing basics, libm, OpenMP, and the compiler's helpers. */
static bool generally_allowed(const char *name, bool asan) {
  if (asan && strncmp(name, "__asan_", 7) == 0) return true; /* the sanitizer's checks, in an ASan build only */
  static const char *const LIBC[] = {
      "malloc", "calloc", "realloc", "free", "aligned_alloc", "posix_memalign", "memcpy", "memmove", "memset",
      "memcmp", "memchr", "strlen", "strnlen", "strcmp", "strncmp", "strcpy", "strncpy", "strcat", "strncat",
      "strchr", "strrchr", "strstr", "strdup", "strndup", "strtok_r", "strspn", "strcspn", "strtol", "strtoul",
      "strtoll", "strtoull", "strtod", "strtof", "atoi", "atol", "atof", "abs", "labs", "llabs", "div", "ldiv",
      "qsort", "bsearch", "printf", "fprintf", "sprintf", "snprintf", "vprintf", "vfprintf", "vsnprintf",
      "vsprintf", "puts", "fputs", "putchar", "fputc", "putc", "fwrite", "fflush", "perror", "strerror",
      "stdout", "stderr", "tolower", "toupper", "isalpha", "isdigit", "isspace", "isalnum", "isupper",
      "islower", "ispunct", "isprint", "__ctype_b_loc", "__ctype_tolower_loc", "__ctype_toupper_loc",
      "__errno_location", "__stack_chk_fail", "__assert_fail", "__printf_chk", "__fprintf_chk", "__sprintf_chk",
      "__snprintf_chk", "__vfprintf_chk", "__vsnprintf_chk", "__vsprintf_chk", "__memcpy_chk", "__memmove_chk",
      "__memset_chk", "__strcpy_chk", "__strncpy_chk", "__strcat_chk", "__strncat_chk", "__isoc99_sscanf",
      "__isoc23_strtol", "__isoc23_strtoul", "__isoc23_strtoll", "__isoc23_strtoull", "sscanf", "abort",
      "_GLOBAL_OFFSET_TABLE_", NULL};
  for (int i = 0; LIBC[i]; i++)
    if (strcmp(name, LIBC[i]) == 0) return true;
  static const char *const PATTERNS[] = {
      /* libm, float and long double variants too */
      "^(sqrt|cbrt|hypot|exp|exp2|expm1|log|log2|log10|log1p|pow|sin|cos|tan|asin|acos|atan|atan2|sinh|cosh|"
      "tanh|asinh|acosh|atanh|erf|erfc|tgamma|lgamma|fabs|floor|ceil|round|lround|llround|trunc|rint|lrint|"
      "nearbyint|fmod|remainder|fmax|fmin|fdim|fma|copysign|nextafter|ldexp|frexp|modf|scalbn|ilogb|logb)[fl]?$",
      "^__(isnan|isinf|finite|fpclassify|signbit)[fl]?$", /* isnan() and friends */
      "^__[a-z]+[0-9]$",                                  /* libgcc: __muldc3, __powisf2, __udivti3 */
      "^GOMP_", "^omp_get_", "^omp_in_parallel$",          /* #pragma omp */
      /* a .cu file built by tools/cuda-emu (make CUDA_EMU=1): the device side of the emulation
       * (__syncthreads, shuffles, __trap, launches) and the thread coordinates it keeps */
      "^_Z[0-9]+emu_[a-z_]+", "^(_ZT[HW][0-9]+)?(threadIdx|blockIdx|blockDim|gridDim)$",
      NULL};
  for (int i = 0; PATTERNS[i]; i++) {
    regex_t re;
    if (regcomp(&re, PATTERNS[i], REG_EXTENDED | REG_NOSUB) != 0) continue;
    bool match = regexec(&re, name, 0, NULL, 0) == 0;
    regfree(&re);
    if (match) return true;
  }
  return false;
}

/* The object check: "" if obj may be linked, else why not (for the student). */
static void check_object(const char *file, const obj_summary *obj, const obj_summary *ref,
                         const obj_summary *library, const obj_summary *siblings, bool asan, char *why, size_t n) {
  why[0] = '\0';
  if (obj->ifunc[0]) {
    snprintf(why, n, "%s: %s is an ifunc (code that runs while the program loads): not in a lab", file, obj->ifunc);
    return;
  }
  for (int i = 0; i < obj->n_defines; i++)
    if (!has_name(ref->defines, ref->n_defines, obj->defines[i])) {
      snprintf(why, n, "%s defines '%s', which the lab's %s does not: a lab file defines only its own functions "
               "(make a helper static)", file, obj->defines[i], file);
      return;
    }
  for (int i = 0; i < obj->n_sections; i++) {
    long allowed = -1;
    for (int j = 0; j < ref->n_sections; j++)
      if (strcmp(ref->sections[j], obj->sections[i]) == 0) allowed = ref->section_size[j];
    if (obj->section_size[i] > 0 && obj->section_size[i] != allowed) {
      snprintf(why, n, "%s has code that runs when the program starts or ends (section %s): not in a lab "
               "(__attribute__((constructor)) or destructor?)", file, obj->sections[i]);
      return;
    }
  }
  for (int i = 0; i < obj->n_refs; i++) {
    const char *r = obj->refs[i];
    bool ok = has_name(ref->refs, ref->n_refs, r) || generally_allowed(r, asan) ||
              (strncmp(r, "nn_", 3) == 0 && (has_name(library->defines, library->n_defines, r) ||
                                             has_name(siblings->defines, siblings->n_defines, r)));
    if (!ok) {
      snprintf(why, n, "%s calls '%s', which a lab may not use: the library's nn_ functions, the C library's "
               "memory, string, printing and math functions, and OpenMP are allowed", file, r);
      return;
    }
  }
}

/* ---- the steps */

/* The compiler's or linker's first error line, as the student's file names it. */
static void first_error(const char *log, char *out, size_t n) {
  out[0] = '\0';
  for (const char *p = log; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (memmem(p, len, "error", 5) || memmem(p, len, "undefined reference", 19) ||
        memmem(p, len, "multiple definition", 19)) {
      clean_text(out, n, p, len, true);
      return;
    }
    p = eol ? eol + 1 : NULL;
  }
}

/* Every file the compiler read (its -MF list) must be the source, a course header or a
 * system header. "" if so, else why not. */
static void check_includes(const build_spec *s, const char *dep_path, const char *src, char *why, size_t n,
                           char *const *roots) {
  why[0] = '\0';
  char err[200];
  char *deps = read_plain_file(dep_path, MAX_LIST, NULL, err, sizeof err);
  if (!deps) {
    snprintf(why, n, "the compiler did not list what %s includes (%s)", src, err);
    return;
  }
  char include_dir[PATH_MAX], src_path[PATH_MAX];
  snprintf(include_dir, sizeof include_dir, "%s/include/", s->kit);
  snprintf(src_path, sizeof src_path, "%s/labs/%s/%s", s->work, s->chapter, src);
  char *colon = strstr(deps, ": ");
  for (char *save, *tok = strtok_r(colon ? colon + 2 : deps, " \\\n", &save); tok; tok = strtok_r(NULL, " \\\n", &save)) {
    char path[PATH_MAX], full[PATH_MAX + 2];
    snprintf(path, sizeof path, "%s%s%s", tok[0] == '/' ? "" : s->work, tok[0] == '/' ? "" : "/", tok);
    if (!realpath(path, full)) {
      snprintf(why, n, "%s includes '%s', which is not a header of the course or of the system", src, tok);
      break;
    }
    bool ok = strcmp(full, src_path) == 0 || strncmp(full, include_dir, strlen(include_dir)) == 0;
    for (char *const *r = roots; r && *r && !ok; r++) ok = strncmp(full, *r, strlen(*r)) == 0 && full[strlen(*r)] == '/';
    if (!ok) {
      snprintf(why, n, "%s includes '%s': a lab file may include only the course's headers and the system's", src, tok);
      break;
    }
  }
  free(deps);
}

static const char *const *build_env(const build_spec *s, char *home, char *tmp) {
  static const char *env[8];
  snprintf(home, PATH_MAX + 8, "HOME=%s", s->work);
  snprintf(tmp, PATH_MAX + 16, "TMPDIR=%s/tmp", s->work);
  env[0] = "PATH=/usr/local/cuda/bin:/usr/local/bin:/usr/bin:/bin";
  env[1] = "LC_ALL=C";
  env[2] = home;
  env[3] = tmp;
  env[4] = NULL;
  return env;
}

/* Runs a build tool (compiler, linker) on the student's files: as the build user, in the work
 * folder, under limits, where Landlock lets it read the system's folders and extra_reads and
 * write the work folder only. true if it ended in time and exited 0; *p holds what it said
 * (the caller frees it with proc_free). */
static bool run_build_tool(const build_spec *s, const char *const *argv, const char *const *extra_reads, proc *p,
                           bool *ended) {
  char home[PATH_MAX + 8], tmp[PATH_MAX + 16];
  const char *reads[64], *writes[] = {s->work, "/dev/null", NULL};
  int r = 0;
  for (; SYSTEM_DIRS[r]; r++) reads[r] = SYSTEM_DIRS[r];
  for (const char *const *e = extra_reads; *e && r < 62; e++) reads[r++] = *e;
  reads[r] = NULL;
  proc_spec spec = {.argv = argv, .cwd = s->work, .env = build_env(s, home, tmp), .uid = s->uid, .gid = s->gid,
                    .keep = 64 << 10, .landlock_read = reads, .landlock_write = writes, .fds = {-1, -1},
                    .lim = {.mem_mb = 4096, .output_kb = 64 << 10, .cpu_s = (long)s->wall_s,
                            .nproc = proc_nproc_limit(s->uid, 64)}};
  *ended = proc_run(p, &spec, s->wall_s);
  return *ended && WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0;
}

/* The extra compiler options of an AddressSanitizer build: its report names file and line. */
static const char *const ASAN_FLAGS[] = {"-g", "-fsanitize=address", "-fno-omit-frame-pointer", NULL};

/* Where a build's objects go: work/obj, or work/obj-asan for the AddressSanitizer build. */
static const char *obj_dir(bool asan) { return asan ? "obj-asan" : "obj"; }

/* Compiles work/labs/CHAPTER/name to work/obj/name.o (asan: work/obj-asan/name.o, with
 * ASAN_FLAGS); false and res->feedback on failure. */
static bool compile_one(const build_spec *s, const char *name, char *const *roots, build_result *res, bool asan) {
  char cmd_path[PATH_MAX];
  snprintf(cmd_path, sizeof cmd_path, "%s/%s", s->kit, ends_with(name, ".cu") ? "nvcc" : "cc");
  int n_cmd = 0;
  char **cmd = read_lines(cmd_path, &n_cmd);
  if (!cmd || n_cmd == 0 || n_cmd > MAX_ARGS - 10) {
    snprintf(res->feedback, sizeof res->feedback, "the autograder's kit has no compiler line %s", cmd_path);
    free_lines(cmd);
    return false;
  }
  char src[PATH_MAX], obj[PATH_MAX], dep[PATH_MAX];
  snprintf(src, sizeof src, "labs/%s/%s", s->chapter, name); /* the path messages and panics name */
  snprintf(obj, sizeof obj, "%s/%s.o", obj_dir(asan), name);
  snprintf(dep, sizeof dep, "%s/%s.d", obj_dir(asan), name);
  const char *argv[MAX_ARGS];
  int a = 0;
  for (int i = 0; i < n_cmd; i++) argv[a++] = cmd[i];
  for (int i = 0; asan && ASAN_FLAGS[i]; i++) argv[a++] = ASAN_FLAGS[i];
  const char *tail[] = {"-c", src, "-o", obj, "-MD", "-MF", dep, NULL};
  for (int i = 0; tail[i]; i++) argv[a++] = tail[i];
  argv[a] = NULL;

  char include_dir[PATH_MAX];
  snprintf(include_dir, sizeof include_dir, "%s/include", s->kit);
  const char *reads[40];
  int r = 0;
  for (char *const *root = roots; root && *root && r < 38; root++) reads[r++] = *root;
  reads[r++] = include_dir, reads[r] = NULL;
  proc p;
  bool ended, ok = run_build_tool(s, argv, reads, &p, &ended);
  size_t used = strlen(res->log);
  clean_text(res->log + used, sizeof res->log - used, p.out, p.out_len, false);
  if (!ended)
    snprintf(res->feedback, sizeof res->feedback, "%s: the compiler ran longer than %g s (an #include of a "
             "device, or a huge macro?)", name, s->wall_s);
  else if (!ok) {
    char err[600];
    first_error(p.out, err, sizeof err);
    snprintf(res->feedback, sizeof res->feedback, "your code does not compile: %s",
             err[0] ? err : p.setup_error[0] ? p.setup_error : "see the compiler's words below");
  }
  proc_free(&p);
  free_lines(cmd);
  if (!ok) return false;
  char why[600], dep_path[PATH_MAX];
  snprintf(dep_path, sizeof dep_path, "%s/%s", s->work, dep);
  check_includes(s, dep_path, name, why, sizeof why, roots);
  if (why[0]) {
    snprintf(res->feedback, sizeof res->feedback, "rejected: %s", why);
    return false;
  }
  return true;
}

/* Checks work/obj/name.o against the kit's summary of the reference. */
static bool check_one(const build_spec *s, const char *name, const obj_summary *library,
                      const obj_summary *siblings, build_result *res, bool asan) {
  char obj[PATH_MAX], ref_path[PATH_MAX], why[700];
  snprintf(obj, sizeof obj, "%s/%s.o", obj_dir(asan), name);
  snprintf(ref_path, sizeof ref_path, "%s/symbols/%s", s->kit, name);
  char *text = run_readelf(obj, s->uid, s->gid, s->work);
  if (!text) {
    snprintf(res->feedback, sizeof res->feedback, "rejected: readelf could not read the object of %s", name);
    return false;
  }
  obj_summary got = {0}, ref = {0};
  parse_readelf(text, &got, asan);
  parse_summary_file(ref_path, &ref);
  check_object(name, &got, &ref, library, siblings, asan, why, sizeof why);
  if (why[0]) snprintf(res->feedback, sizeof res->feedback, "rejected: %s", why);
  summary_free(&got), summary_free(&ref);
  free(text);
  return !why[0];
}

/* Links the kit's link line (kit/LINK_NAME) with the objects into work/bin/OUT_NAME. */
static bool link_worker(const build_spec *s, const char *link_name, const char *out_name, char *const *stubs,
                        char *const *roots, build_result *res, char *out_path, bool asan) {
  char cmd_path[PATH_MAX];
  snprintf(cmd_path, sizeof cmd_path, "%s/%s", s->kit, link_name);
  if (access(cmd_path, F_OK) != 0) return true; /* no hidden tests */
  int n_cmd = 0;
  char **cmd = read_lines(cmd_path, &n_cmd);
  const char *argv[MAX_ARGS];
  char out[PATH_MAX], objs[MAX_STUBS][PATH_MAX];
  snprintf(out, sizeof out, "bin/%s", out_name);
  int a = 0;
  for (int i = 0; cmd && i < n_cmd && a < MAX_ARGS - MAX_STUBS - 2; i++) {
    if (i == 1 && asan) argv[a++] = "-fsanitize=address"; /* after the compiler driver */
    if (strcmp(cmd[i], "@OUT@") == 0)
      argv[a++] = out;
    else if (strcmp(cmd[i], "@STUDENT@") == 0)
      for (int k = 0; stubs[k] && k < MAX_STUBS; k++) {
        snprintf(objs[k], sizeof objs[k], "%s/%s.o", obj_dir(asan && !ends_with(stubs[k], ".cu")), stubs[k]);
        argv[a++] = objs[k];
      }
    else
      argv[a++] = cmd[i];
  }
  argv[a] = NULL;
  /* the kit, and the roots a compile may read: a CUDA toolkit outside /usr has its libraries there */
  const char *reads[40];
  int r = 0;
  reads[r++] = s->kit;
  for (char *const *root = roots; root && *root && r < 39; root++) reads[r++] = *root;
  reads[r] = NULL;
  proc p;
  bool ended, ok = run_build_tool(s, argv, reads, &p, &ended);
  if (!ok) {
    char err[600] = "";
    first_error(p.out, err, sizeof err);
    snprintf(res->feedback, sizeof res->feedback, "your code does not link with the tests: %s",
             err[0] ? err : !ended ? "the linker ran too long" : p.setup_error);
    size_t used = strlen(res->log);
    clean_text(res->log + used, sizeof res->log - used, p.out, p.out_len, false);
  }
  proc_free(&p);
  free_lines(cmd);
  if (ok) snprintf(out_path, PATH_MAX, "%.2000s/%.1000s", s->work, out);
  return ok;
}

/* Which stub files this kit builds: .cu ones only where the kit has nvcc. */
static char **stub_files(const build_spec *s) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/stubs", s->kit);
  char **stubs = read_lines(path, NULL);
  snprintf(path, sizeof path, "%s/nvcc", s->kit);
  bool cuda = access(path, F_OK) == 0;
  int k = 0;
  for (int i = 0; stubs && stubs[i]; i++)
    if (cuda || !ends_with(stubs[i], ".cu"))
      stubs[k++] = stubs[i];
    else
      free(stubs[i]);
  if (stubs) stubs[k] = NULL;
  return stubs;
}

/* Step 1: copy each stub file from the submission (or the lab's, if it is not there) into work/src. */
static bool take_files(const build_spec *s, char *const *stubs, build_result *res) {
  for (int i = 0; stubs[i]; i++) {
    const char *name = stubs[i];
    char from[PATH_MAX], to[PATH_MAX], why[200];
    snprintf(from, sizeof from, "%s/%s", s->submission, name);
    snprintf(to, sizeof to, "%s/labs/%s/%s", s->work, s->chapter, name);
    size_t len = 0;
    bool exists = access(from, F_OK) == 0 || errno != ENOENT;
    char *text = exists ? read_plain_file(from, MAX_SOURCE, &len, why, sizeof why) : NULL;
    size_t used = strlen(res->taken);
    if (exists && !text) {
      snprintf(res->feedback, sizeof res->feedback, "rejected: your %s is %s", name, why);
      return false;
    }
    if (!exists) {
      snprintf(from, sizeof from, "%s/lab/%s", s->kit, name);
      text = read_plain_file(from, MAX_SOURCE, &len, why, sizeof why);
      snprintf(res->taken + used, sizeof res->taken - used, "  %s: not in your submission; the unwritten lab "
               "file is graded instead\n", name);
    } else {
      snprintf(res->taken + used, sizeof res->taken - used, "  %s\n", name);
    }
    if (!text) {
      snprintf(res->feedback, sizeof res->feedback, "the autograder's kit lacks %s (%s)", from, why);
      return false;
    }
    if (strcasestr(text, "incbin")) {
      snprintf(res->feedback, sizeof res->feedback, "rejected: %s mentions incbin (an assembler directive that "
               "reads a file into the program): not in a lab", name);
      free(text);
      return false;
    }
    bool ok = write_new_file(to, text, len, s->uid, s->gid);
    free(text);
    if (!ok) {
      snprintf(res->feedback, sizeof res->feedback, "the grader could not write %s: %s", to, strerror(errno));
      return false;
    }
  }
  return true;
}

/* Reads the kit's summaries: the library's nn_ functions, and what the stub files define. */
static void kit_summaries(const build_spec *s, char *const *stubs, obj_summary *library, obj_summary *siblings) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/library", s->kit);
  parse_summary_file(path, library);
  for (int i = 0; stubs[i]; i++) {
    snprintf(path, sizeof path, "%s/symbols/%s", s->kit, stubs[i]);
    parse_summary_file(path, siblings);
  }
}

build_result build_asan_workers(const build_spec *s) {
  build_result res = {0};
  char **stubs = stub_files(s), path[PATH_MAX];
  snprintf(path, sizeof path, "%s/roots", s->kit);
  char **roots = read_lines(path, NULL);
  snprintf(path, sizeof path, "%s/obj-asan", s->work);
  bool ok = stubs && (mkdir(path, 0755) == 0 || errno == EEXIST) &&
            (s->uid < 0 || chown(path, (uid_t)s->uid, (gid_t)s->gid) == 0);
  if (!ok) snprintf(res.feedback, sizeof res.feedback, "the grader could not make %s: %s", path, strerror(errno));
  obj_summary library = {0}, siblings = {0};
  if (ok) kit_summaries(s, stubs, &library, &siblings);
  /* The same files as the worker's, compiled again with ASAN_FLAGS and checked again: only
   * the compiler's own __asan_ calls and module constructor are new. (.cu files: as they were.) */
  for (int i = 0; ok && stubs[i]; i++)
    if (!ends_with(stubs[i], ".cu"))
      ok = compile_one(s, stubs[i], roots, &res, true) && check_one(s, stubs[i], &library, &siblings, &res, true);
  if (ok) ok = link_worker(s, "link", "worker-asan", stubs, roots, &res, res.worker, true);
  if (ok) ok = link_worker(s, "link-hidden", "worker-asan-hidden", stubs, roots, &res, res.hidden_worker, true);
  res.ok = ok;
  summary_free(&library), summary_free(&siblings);
  free_lines(stubs);
  free_lines(roots);
  return res;
}

build_result build_submission(const build_spec *s) {
  build_result res = {0};
  char **stubs = stub_files(s);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/roots", s->kit);
  char **roots = read_lines(path, NULL);
  char lab_dir[PATH_MAX];
  snprintf(lab_dir, sizeof lab_dir, "labs/%s", s->chapter);
  const char *sub[] = {"labs", lab_dir, "obj", "bin", "tmp"};
  for (int i = 0; i < 5; i++) {
    snprintf(path, sizeof path, "%s/%s", s->work, sub[i]);
    if (mkdir(path, 0755) != 0 || (s->uid >= 0 && chown(path, (uid_t)s->uid, (gid_t)s->gid) != 0)) {
      snprintf(res.feedback, sizeof res.feedback, "the grader could not make %s: %s", path, strerror(errno));
      goto done;
    }
  }
  if (!stubs || !stubs[0]) {
    snprintf(res.feedback, sizeof res.feedback, "the autograder's kit %s lists no lab files", s->kit);
    goto done;
  }
  if (!take_files(s, stubs, &res)) goto done;
  { /* Is there Landlock? A child that must have it runs /bin/true. */
    proc p;
    const char *argv[] = {"/bin/true", NULL}, *env[] = {NULL}, *none[] = {NULL};
    proc_spec spec = {.argv = argv, .env = env, .uid = -1, .gid = -1, .keep = 256, .landlock_read = SYSTEM_DIRS,
                      .landlock_write = none, .landlock_required = true, .fds = {-1, -1},
                      .lim = {.mem_mb = 256, .output_kb = 64, .cpu_s = 5, }};
    res.landlock = proc_run(&p, &spec, 10) && WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0;
    proc_free(&p);
  }
  obj_summary library = {0}, siblings = {0};
  kit_summaries(s, stubs, &library, &siblings);
  bool ok = true;
  for (int i = 0; stubs[i] && ok; i++)
    ok = compile_one(s, stubs[i], roots, &res, false) && check_one(s, stubs[i], &library, &siblings, &res, false);
  if (ok) ok = link_worker(s, "link", "worker", stubs, roots, &res, res.worker, false);
  if (ok) ok = link_worker(s, "link-hidden", "worker-hidden", stubs, roots, &res, res.hidden_worker, false);
  res.ok = ok;
  summary_free(&library), summary_free(&siblings);
done:
  free_lines(stubs);
  free_lines(roots);
  return res;
}
