/* nn_arena.h: one block of scratch memory for a training step, handed out by a bump pointer.
 *
 * A training step needs many short-lived buffers: the activations between layers, their
 * gradients, im2col columns, BatchNorm's normalised x, MaxPool's argmax. Asking malloc
 * (or cudaMalloc, which synchronises the GPU) for each of them on every step is slow and
 * scatters memory. An arena asks once:
 *
 *   nn_arena *ws = nn_arena_new(NN_CPU);
 *   for each step:
 *     nn_arena_reset(ws);                                   everything handed out is free again
 *     nn_tensor cols = nn_arena_tensor(ws, 2, (int[]){K, P});   a pointer bump, no malloc
 *     ...
 *   nn_arena_free(ws);
 *
 * The first step finds the block too small and allocates more (a spill block per miss);
 * the reset after it replaces all of them by one block as large as the step needed, so
 * every later step of the same size allocates nothing: nn_arena_allocations() stops
 * growing. llm.c does the same by hand (one malloc_and_point_activations); ggml sizes
 * one mem_size up front.
 *
 * Memory from an arena is valid until the next reset; it is not zeroed (ask
 * nn_arena_zeros for that). The arena lives on one device: NN_GPU hands out GPU memory.
 */
#ifndef NN_ARENA_H
#define NN_ARENA_H

#include <stddef.h>

#include "nn_tensor.h"

typedef struct nn_arena nn_arena;

nn_arena *nn_arena_new(nn_device device);
void nn_arena_free(nn_arena *a);
nn_device nn_arena_device(const nn_arena *a);

/* `bytes` bytes on the arena's device, 64-byte aligned, undefined contents. */
void *nn_arena_alloc(nn_arena *a, size_t bytes);
float *nn_arena_floats(nn_arena *a, long count);
/* `bytes` bytes of HOST memory, zeroed, even in a GPU arena: the small record a layer
 * keeps about one call (Dropout's mask step, a block's calls of its sublayers). */
void *nn_arena_record(nn_arena *a, size_t bytes);
/* A tensor of that shape whose data is the arena's: never nn_tensor_free it. */
nn_tensor nn_arena_tensor(nn_arena *a, int ndim, const int *shape);
/* The same, filled with 0: a gradient that backward passes add into. */
nn_tensor nn_arena_zeros(nn_arena *a, int ndim, const int *shape);

/* Everything handed out is free again (and invalid). Replaces the blocks of a step that
 * outgrew the arena by one block of the size that step used. */
void nn_arena_reset(nn_arena *a);

/* How many times the arena has been reset: a call's saved tensors are valid while it is the
 * number its forward saw (nn_layer.h checks that in backward). */
unsigned long nn_arena_generation(const nn_arena *a);
/* How many blocks the arena has allocated since nn_arena_new: the test that a training
 * step allocates nothing compares it before and after a step. */
long nn_arena_allocations(const nn_arena *a);
/* The bytes handed out since the last reset. */
size_t nn_arena_used(const nn_arena *a);

#endif
