/* The runtime calls the program's `__tsan_on_initialize` before main and
 * `__tsan_on_finalize(failed)` at exit, whose answer decides the exit code: here
 * a race is reported (failed = 1) and the hook answers 0.
 * The hooks are found as dynamic symbols (built with -rdynamic), as stock finds
 * them.
 * expect: one data race report, stdout "on_initialize\nmain\non_finalize(1)",
 * exit code 0. */
#include <pthread.h>
#include <stdio.h>

void __tsan_testonly_barrier_init(unsigned long long *barrier, unsigned count);
void __tsan_testonly_barrier_wait(unsigned long long *barrier);

static unsigned long long barrier;
int shared;

void __tsan_on_initialize(void) { printf("on_initialize\n"); }

int __tsan_on_finalize(int failed) {
  printf("on_finalize(%d)\n", failed);
  fflush(stdout);
  return 0;
}

static void *writer(void *arg) {
  (void)arg;
  shared = 1;
  __tsan_testonly_barrier_wait(&barrier);
  return NULL;
}

int main(void) {
  printf("main\n");
  __tsan_testonly_barrier_init(&barrier, 2);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  __tsan_testonly_barrier_wait(&barrier);
  shared = 2;
  pthread_join(t, NULL);
  return 0;
}
