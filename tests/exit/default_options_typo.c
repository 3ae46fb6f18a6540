/* The program's own __tsan_default_options() names a flag umbra does not know.
 * Expect: first, on stderr, the one line
 *   umbra: __tsan_default_options: unknown flag 'report_bgus' (did you mean 'report_bugs'?), ignored
 * then the program runs: "x=1" on stdout, one data race report (main's read of `x`
 * racing with the worker's write), "ThreadSanitizer: reported 1 warnings"; exit code 7
 * (the good flag of the same string still applies).
 * A relaxed flag orders the two accesses in time without synchronizing them. */
#include <pthread.h>
#include <stdio.h>

const char *__tsan_default_options(void) { return "report_bgus=0 exitcode=7"; }

int x;
int done;

static void *worker(void *arg) {
  x = 1;
  __atomic_store_n(&done, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  while (!__atomic_load_n(&done, __ATOMIC_RELAXED))
    ;
  int v = x; // the race
  pthread_join(t, NULL);
  printf("x=%d\n", v);
  return 0;
}
