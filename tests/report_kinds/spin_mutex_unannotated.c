// exit: 66
// stdout: total 4000
// stderr: WARNING: ThreadSanitizer: data race (pid=
// frame: worker @count
// stock
//
// The spin mutex of spin_mutex.h without its annotations: its relaxed atomics
// order nothing, so the counter the threads increment under it races (and so
// does the mutex's own `holder` field). What the annotated run's silence owes to
// the annotations. The run prints "total 4000" and exits 66.
#include <pthread.h>
#include <stdio.h>

#define UNANNOTATED
#include "spin_mutex.h"

static spin_mutex m;
static long total;

static void *worker(void *arg) {
  for (int i = 0; i < 1000; i++) {
    spin_lock(&m, (long)arg);
    total++; /* @count */
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
  return 0;
}
