/* Checkpoints: round trip, corruption caught by magic/CRC/shape checks,
 * and a failed save that leaves the previous file untouched. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn_checkpoint.h"
#include "nn_rng.h"

static char dir[64], path[128];

static void make_dir(void) {
  strcpy(dir, "/tmp/nn-ckpt-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/model.ckpt", dir);
}
static void remove_dir(void) {
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static long file_size(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* A small "model": W (10, 784), b (10), with seeded random values. */
typedef struct { nn_tensor W, b; nn_named_tensor items[2]; } model;
static model model_new(uint64_t seed) {
  model m = {.W = nn_tensor_new(2, (int[]){10, 784}, NN_CPU), .b = nn_tensor_new(1, (int[]){10}, NN_CPU)};
  nn_rng r = nn_rng_new(seed);
  nn_rng_fill_normal(&r, m.W.data, nn_numel(&m.W), 0.f, 1.f);
  nn_rng_fill_normal(&r, m.b.data, nn_numel(&m.b), 0.f, 1.f);
  return m;
}
static void bind(model *m) {
  m->items[0] = (nn_named_tensor){"dense.W", &m->W};
  m->items[1] = (nn_named_tensor){"dense.b", &m->b};
}
static void model_free(model *m) { nn_tensor_free(&m->W); nn_tensor_free(&m->b); }

static void flip_byte(const char *p, long offset) {
  FILE *f = fopen(p, "r+b");
  cr_assert_not_null(f);
  fseek(f, offset, SEEK_SET);
  int c = fgetc(f);
  fseek(f, offset, SEEK_SET);
  fputc(c ^ 0x5a, f);
  fclose(f);
}

TestSuite(checkpoint, .init = make_dir, .fini = remove_dir);

Test(checkpoint, round_trip_restores_every_value) {
  model a = model_new(1), b = model_new(2);
  bind(&a), bind(&b);
  nn_error err = {0};
  cr_assert_eq(nn_checkpoint_save(path, a.items, 2, &err), NN_OK, "%s", err.msg);
  /* header 12 + 2 records (2+7+4+8 + 40*784 ; 2+7+4+4 + 40) + crc 4 */
  cr_assert_eq(file_size(path), 12 + (21 + 4 * 7840) + (17 + 40) + 4, "file is %ld bytes", file_size(path));
  cr_assert_eq(access("model.ckpt.tmp", F_OK), -1);
  cr_assert_eq(nn_checkpoint_load(path, b.items, 2, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(memcmp(a.W.data, b.W.data, nn_tensor_bytes(&a.W)), 0, "W differs after load");
  cr_assert_eq(memcmp(a.b.data, b.b.data, nn_tensor_bytes(&a.b)), 0, "b differs after load");
  model_free(&a), model_free(&b);
}

Test(checkpoint, a_flipped_byte_is_caught_by_the_crc_and_the_model_is_untouched) {
  model a = model_new(1), b = model_new(2);
  bind(&a), bind(&b);
  nn_error err = {0};
  cr_assert_eq(nn_checkpoint_save(path, a.items, 2, &err), NN_OK, "%s", err.msg);
  flip_byte(path, 5000);
  float before = b.W.data[1000];
  cr_assert_eq(nn_checkpoint_load(path, b.items, 2, &err), NN_ERR_FORMAT);
  cr_assert(strstr(err.msg, "CRC mismatch"), "message was: %s", err.msg);
  cr_assert_eq(b.W.data[1000], before, "a failed load must not change the model");
  model_free(&a), model_free(&b);
}

Test(checkpoint, wrong_magic_truncation_shape_and_name_are_reported) {
  model a = model_new(1);
  bind(&a);
  nn_error err = {0};
  cr_assert_eq(nn_checkpoint_save(path, a.items, 2, &err), NN_OK, "%s", err.msg);
  /* shape mismatch: the model's W is (10, 785) */
  nn_tensor W2 = nn_tensor_new(2, (int[]){10, 785}, NN_CPU);
  nn_named_tensor want = {"dense.W", &W2};
  cr_assert_eq(nn_checkpoint_load(path, &want, 1, &err), NN_ERR_FORMAT);
  cr_assert(strstr(err.msg, "'dense.W' is (10, 784) in the file but (10, 785) in the model"), "message was: %s", err.msg);
  nn_named_tensor missing = {"conv1.W", &W2};
  cr_assert_eq(nn_checkpoint_load(path, &missing, 1, &err), NN_ERR_FORMAT);
  cr_assert(strstr(err.msg, "no tensor named 'conv1.W'"), "message was: %s", err.msg);
  /* cut short: the CRC no longer matches */
  cr_assert_eq(truncate(path, file_size(path) - 100), 0);
  cr_assert_eq(nn_checkpoint_load(path, a.items, 2, &err), NN_ERR_FORMAT);
  cr_assert(strstr(err.msg, "CRC mismatch"), "message was: %s", err.msg);
  /* not a checkpoint at all */
  FILE *f = fopen(path, "wb");
  fputs("P5\n28 28\n255\n this is an image", f);
  fclose(f);
  cr_assert_eq(nn_checkpoint_load(path, a.items, 2, &err), NN_ERR_FORMAT);
  cr_assert(strstr(err.msg, "not a libnn checkpoint"), "message was: %s", err.msg);
  cr_assert_eq(nn_checkpoint_load("/nonexistent/x.ckpt", a.items, 2, &err), NN_ERR_IO);
  nn_tensor_free(&W2);
  model_free(&a);
}

Test(checkpoint, a_failed_save_leaves_the_old_file_intact) {
  model a = model_new(1), b = model_new(2);
  bind(&a), bind(&b);
  nn_error err = {0};
  cr_assert_eq(nn_checkpoint_save(path, a.items, 2, &err), NN_OK, "%s", err.msg);
  long good_size = file_size(path);
  /* The disk "fills up" after 4 KiB: writes past that fail with EFBIG. */
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = {4096, 4096};
  cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
  cr_assert_eq(nn_checkpoint_save(path, b.items, 2, &err), NN_ERR_IO);
  cr_assert(strstr(err.msg, "previous file, if any, is unchanged"), "message was: %s", err.msg);
  char tmp[160];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  cr_assert_eq(access(tmp, F_OK), -1, "the temp file %s was left behind", tmp);
  cr_assert_eq(file_size(path), good_size);
  /* the old checkpoint still loads, with a's values */
  cr_assert_eq(nn_checkpoint_load(path, b.items, 2, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(memcmp(a.W.data, b.W.data, nn_tensor_bytes(&a.W)), 0);
  model_free(&a), model_free(&b);
}
