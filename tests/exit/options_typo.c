/* Run with TSAN_OPTIONS=halt_on_eror=1:exitcode=9 (a misspelled flag, then a good one).
 * Expect: first, on stderr, the one line
 *   umbra: TSAN_OPTIONS: unknown flag 'halt_on_eror' (did you mean 'halt_on_error'?), ignored
 * then the program runs: "x=1" on stdout, one data race report (main's read of `x`
 * racing with the worker's write), "ThreadSanitizer: reported 1 warnings"; exit code 9
 * (the good flag of the same string still applies).
 * Run with UMBRA_OPTIONS=halt_on_eror=1 instead, the program must not run: one line
 * "umbra: UMBRA_OPTIONS: unknown flag 'halt_on_eror' ..." and exit code 1.
 * A relaxed flag orders the two accesses in time without synchronizing them. */
#include <pthread.h>
#include <stdio.h>

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
