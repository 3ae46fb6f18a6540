// exit: 0
// stderr-clean
// stdout: total 4000
// stock
//
// Four threads increment a counter 1000 times each under the annotated spin
// mutex of spin_mutex.h: the annotations order the critical sections, and the
// mutex's own accesses (its relaxed atomics, the plain `holder` field every
// locker writes) are ignored between pre- and post-lock and pre- and
// post-unlock. No report; the run prints "total 4000" and exits 0.
#include <pthread.h>
#include <stdio.h>

#include "spin_mutex.h"

static spin_mutex m;
static long total;

static void *worker(void *arg) {
  for (int i = 0; i < 1000; i++) {
    spin_lock(&m, (long)arg);
    total++;
    spin_unlock(&m);
  }
  return NULL;
}

int main(void) {
  spin_init(&m, 0);
  pthread_t t[4];
  for (long i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, worker, (void *)(i + 1));
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  printf("total %ld\n", total);
  __tsan_mutex_destroy(&m, 0);
  return 0;
}
