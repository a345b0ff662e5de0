/* nn_arena.c: a bump allocator over one block, with spill blocks for a step that outgrows it. */
#include "nn_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cuda.h"
#include "nn_parallel.h"

enum { ALIGN = 64, MAX_BLOCKS = 64 };

typedef struct {
  char *data;
  size_t size, used;
} block;

/* blocks[0] is the main block; blocks[1..count) are this step's spills. */
typedef struct {
  nn_device device;
  block blocks[MAX_BLOCKS];
  int count;
  size_t step_bytes; /* handed out since the last reset, over every block */
} side;

/* A GPU arena has two sides: GPU memory for tensors, host memory for the small
 * records layers keep about a call. A CPU arena uses its one side for both. */
struct nn_arena {
  side device, host;
  long allocations;
  unsigned long generation; /* resets so far */
};

static size_t round_up(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

static char *device_alloc(nn_device device, size_t bytes) {
  if (device == NN_GPU) return nn_cuda_malloc(bytes); /* cudaMalloc aligns to 256 bytes */
  void *p = NULL;
  NN_REQUIRE(posix_memalign(&p, ALIGN, bytes) == 0, "nn_arena: out of memory for a block of %zu bytes", bytes);
  return p;
}

static void device_free(nn_device device, void *p) {
  if (device == NN_GPU)
    nn_cuda_free(p);
  else
    free(p);
}

nn_arena *nn_arena_new(nn_device device) {
  NN_REQUIRE(device == NN_CPU || nn_cuda_available(), "nn_arena_new: asked for a GPU arena but %s",
             nn_cuda_describe());
  nn_arena *a = nn_xcalloc(1, sizeof *a, "nn_arena");
  a->device.device = device;
  a->host.device = NN_CPU;
  return a;
}

static void free_blocks(side *s) {
  for (int i = 0; i < s->count; i++) device_free(s->device, s->blocks[i].data);
  s->count = 0;
}

void nn_arena_free(nn_arena *a) {
  if (!a) return;
  free_blocks(&a->device), free_blocks(&a->host);
  free(a);
}

nn_device nn_arena_device(const nn_arena *a) { return a->device.device; }

static void add_block(nn_arena *a, side *s, size_t size) {
  NN_REQUIRE(s->count < MAX_BLOCKS, "nn_arena: %d blocks in one step; reset the arena once per step "
             "(nn_arena_reset)", MAX_BLOCKS);
  s->blocks[s->count++] = (block){device_alloc(s->device, size), size, 0};
  a->allocations++;
}

static void *side_alloc(nn_arena *a, side *s, size_t bytes) {
  size_t need = round_up(bytes ? bytes : 1);
  block *last = s->count ? &s->blocks[s->count - 1] : NULL;
  if (!last || last->size - last->used < need) {
    /* a spill: at least what this step has had so far, so a growing step spills a few times, not per call */
    size_t grow = s->step_bytes > need ? s->step_bytes + need : 2 * need;
    add_block(a, s, round_up(grow < 1 << 16 ? 1 << 16 : grow));
    last = &s->blocks[s->count - 1];
  }
  char *p = last->data + last->used;
  last->used += need;
  s->step_bytes += need;
  return p;
}

void *nn_arena_alloc(nn_arena *a, size_t bytes) {
  NN_REQUIRE(a, "nn_arena_alloc: the arena is NULL (a layer called without one: give its nn_call an arena)");
  return side_alloc(a, &a->device, bytes);
}

void *nn_arena_record(nn_arena *a, size_t bytes) {
  NN_REQUIRE(a, "nn_arena_record: the arena is NULL (a layer called without one: give its nn_call an arena)");
  void *p = side_alloc(a, a->device.device == NN_CPU ? &a->device : &a->host, bytes);
  memset(p, 0, bytes);
  return p;
}

float *nn_arena_floats(nn_arena *a, long count) {
  NN_REQUIRE(count >= 0, "nn_arena_floats: %ld floats", count);
  return nn_arena_alloc(a, (size_t)count * sizeof(float));
}

nn_tensor nn_arena_tensor(nn_arena *a, int ndim, const int *shape) {
  nn_tensor t = {.ndim = ndim, .device = a->device.device};
  NN_REQUIRE(ndim >= 1 && ndim <= NN_MAX_DIMS, "nn_arena_tensor: %d dims (1 to %d)", ndim, NN_MAX_DIMS);
  for (int i = 0; i < ndim; i++) {
    NN_REQUIRE(shape[i] >= 0, "nn_arena_tensor: dim %d is %d", i, shape[i]);
    t.shape[i] = shape[i];
  }
  t.data = nn_arena_floats(a, nn_numel(&t));
  return t;
}

/* 0.f is all zero bits: a memset, in chunks over libnn's threads when large (a step zeroes
 * every activation's gradient; a conv layer's is millions of floats). */
static void zero_floats(float *p, long n) {
  enum { CHUNK = 1 << 16 };
  const long chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) if (n >= 4 * NN_PARALLEL_MIN_WORK)
  for (long k = 0; k < chunks; k++) {
    long lo = k * CHUNK, len = n - lo < CHUNK ? n - lo : CHUNK;
    memset(p + lo, 0, (size_t)len * sizeof *p);
  }
}

nn_tensor nn_arena_zeros(nn_arena *a, int ndim, const int *shape) {
  nn_tensor t = nn_arena_tensor(a, ndim, shape);
  if (t.device == NN_CPU)
    zero_floats(t.data, nn_numel(&t));
  else
    nn_tensor_fill(&t, 0.f);
  return t;
}

static void reset_side(nn_arena *a, side *s) {
  if (s->count > 1) { /* the step outgrew the main block: one block of what it used from now on */
    size_t size = round_up(s->step_bytes);
    free_blocks(s);
    add_block(a, s, size);
  }
  if (s->count) s->blocks[0].used = 0;
  s->step_bytes = 0;
}

void nn_arena_reset(nn_arena *a) {
  reset_side(a, &a->device);
  reset_side(a, &a->host);
  a->generation++;
}

unsigned long nn_arena_generation(const nn_arena *a) { return a->generation; }

long nn_arena_allocations(const nn_arena *a) { return a->allocations; }
size_t nn_arena_used(const nn_arena *a) { return a->device.step_bytes + a->host.step_bytes; }
