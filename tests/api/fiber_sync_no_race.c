/* A plain fiber switch (flags 0) is a release by the fiber left and an acquire by
 * the fiber entered: the worker fiber's write happens before main's.
 * expect: no report, stdout "shared 2", exit code 0. */
#include "fiber.h"

int shared; /* global: every store to it stays */

static void fiber_body(void) {
  shared = 1;
  back_to_main();
}

int main(void) {
  switch_flags = 0;
  start_worker(fiber_body, NULL);
  run_worker();
  shared = 2;
  printf("shared %d\n", shared);
  return 0;
}
