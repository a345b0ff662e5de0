/* libnn's threads (nn_parallel.h): the count follows nn_set_threads, a parallel loop
 * numbers its threads 0..T-1, a bad count aborts, and a mistake every thread makes at
 * once (a lab's stub inside a loop over images) is reported once, by one SIGABRT. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abort_message.h"
#include "nn_common.h"
#include "nn_parallel.h"

Test(parallel, threads_follow_nn_set_threads_and_are_numbered_from_0) {
  nn_set_threads(3);
  cr_assert_eq(nn_threads(), 3, "after nn_set_threads(3), nn_threads() = %d", nn_threads());
  cr_assert(!nn_in_parallel() && nn_thread_index() == 0, "outside a loop: not in parallel, thread 0");
  int seen[3] = {0};
#pragma omp parallel num_threads(3)
  {
    int t = nn_thread_index();
    if (t >= 0 && t < 3 && nn_in_parallel()) seen[t] = nn_threads(); /* each thread its own cell */
  }
#ifdef _OPENMP
  for (int t = 0; t < 3; t++)
    cr_assert_eq(seen[t], 3, "thread %d of 3 saw nn_threads() = %d inside the loop", t, seen[t]);
#else
  cr_assert_eq(seen[0], 0, "built without OpenMP the loop runs on thread 0 alone, not in parallel");
#endif
}

Test(parallel, zero_threads_aborts, .signal = SIGABRT) { nn_set_threads(0); }

/* Four threads panic at the same moment, in a child whose stderr we read. */
static void every_thread_panics(void *ctx) {
  (void)ctx;
  nn_set_threads(4);
#pragma omp parallel num_threads(4)
  {
#pragma omp barrier
    nn_panic("thread %d found the same mistake", nn_thread_index());
  }
}

Test(parallel, a_mistake_made_by_every_thread_at_once_is_reported_once) {
  char err[8192];
  bool aborted = nn_abort_message(every_thread_panics, NULL, err, sizeof err);
  int said = 0;
  for (const char *p = err; (p = strstr(p, "found the same mistake")); p++) said++;
  cr_assert_eq(said, 1, "the mistake was reported %d times; expected once:\n%s", said, err);
  cr_assert(aborted, "the process must die of SIGABRT");
}
