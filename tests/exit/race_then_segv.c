/* Expect: one data race report (the write in `second`, racing with the write in
 * `first`), then umbra's "umbra: SEGV on address 0x0 ..." line; the process dies of
 * SIGSEGV.
 *
 * Two threads race on `x`; main writes through a null pointer as soon as the second thread is about to
 * make the racy write, so the exit happens while that thread is still building its
 * report. Relaxed flags order the steps in time without synchronizing anything. */
#include <pthread.h>
#include <stdlib.h>

int x;
int first_done, second_started;

static void *first(void *arg) {
  x = 1;
  __atomic_store_n(&first_done, 1, __ATOMIC_RELAXED);
  return arg;
}

static void *second(void *arg) {
  while (!__atomic_load_n(&first_done, __ATOMIC_RELAXED))
    ;
  __atomic_store_n(&second_started, 1, __ATOMIC_RELAXED);
  x = 2; // the race
  return arg;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, first, NULL);
  pthread_create(&b, NULL, second, NULL);
  while (!__atomic_load_n(&second_started, __ATOMIC_RELAXED))
    ;
  *(volatile int *)0 = 0;
  return 0;
}
