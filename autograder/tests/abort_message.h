/* abort_message.h: run a piece of code in a child process and read what it said on its
 * way out, for the tests that a mistake aborts with a message naming what is wrong.
 *
 *   static void bad_call(void *ctx) { nn_model_fit(ctx, ...); }
 *   char msg[1024];
 *   bool aborted = nn_abort_message(bad_call, model, msg, sizeof msg);
 *   cr_assert(aborted && strstr(msg, "categorical_ce"), "%s", msg);
 *
 * The child's stderr goes into msg (cut to size - 1, NUL-terminated). True when the child
 * ended by SIGABRT, what NN_REQUIRE and nn_panic do; false when fn returned (the child
 * then exits 0) or the child died another way. CUDA must not be used on both sides of
 * the fork: a test that needs a GPU touches it in fn only. */
#ifndef ABORT_MESSAGE_H
#define ABORT_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

bool nn_abort_message(void (*fn)(void *ctx), void *ctx, char *msg, size_t size);

#endif
