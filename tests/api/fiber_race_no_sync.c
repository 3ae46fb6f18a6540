/* Fibers switched with __tsan_switch_to_fiber_no_sync (flag 1) do not
 * synchronize: the worker fiber's write and main's later write race, and the
 * report names the fiber as a thread, with its name.
 * expect: one data race report on `shared` (main's write against the write in
 * fiber_body by thread T1 'worker fiber'), stdout "shared 2", exit code 66. */
#include "fiber.h"

int shared; /* global: every store to it stays */

static void fiber_body(void) {
  shared = 1; /* FIBER WRITE */
  back_to_main();
}

int main(void) {
  switch_flags = 1;
  start_worker(fiber_body, "worker fiber");
  run_worker();
  shared = 2; /* MAIN WRITE */
  printf("shared %d\n", shared);
  return 0;
}
