/* Creating, entering and destroying many fibers gives back what each one took
 * (its shadow stack alone is half a MiB of address space): a fiber runs a mutex
 * (a sync object) and function calls, and 900 fibers after the first 100 grow
 * the address space by less than 128 MiB (the history rings of the 128
 * finished threads the runtime keeps for reports among it).
 * expect: no report, stdout "address space kept, 1000 fibers", exit code 0. */
#include <pthread.h>

#include "fiber.h"

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static int runs;

static void fiber_body(void) {
  pthread_mutex_lock(&mutex);
  runs++;
  pthread_mutex_unlock(&mutex);
  back_to_main();
}

/* VmSize of /proc/self/status, in KiB. */
static long vm_size_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %ld kB", &kib) == 1)
      break;
  fclose(f);
  return kib;
}

static void one_fiber(void) {
  start_worker(fiber_body, NULL);
  run_worker();
  __tsan_destroy_fiber(worker_fiber);
}

int main(void) {
  switch_flags = 0;
  for (int i = 0; i < 100; i++)
    one_fiber();
  long before = vm_size_kib();
  for (int i = 0; i < 900; i++)
    one_fiber();
  long after = vm_size_kib();
  if (before < 0 || after - before >= 128 * 1024)
    printf("address space grew from %ld to %ld KiB\n", before, after);
  else
    printf("address space kept, %d fibers\n", runs);
  return 0;
}
