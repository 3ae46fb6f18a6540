// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: data race (pid=
// frame: main @outside
// frame: worker @inside
// stock
//
// The annotated spin mutex orders what is done under it, nothing else: a worker
// writes `shared` under the mutex, main reads it without taking the mutex. One
// race, between the read outside and the write inside. The run prints "done" and
// exits 66.
#include <pthread.h>
#include <stdio.h>

#include "spin_mutex.h"

static spin_mutex m;
static long shared;
static int started;

static void *worker(void *arg) {
  spin_lock(&m, 1);
  shared = 42; /* @inside */
  spin_unlock(&m);
  __atomic_store_n(&started, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(void) {
  spin_init(&m, 0);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  while (!__atomic_load_n(&started, __ATOMIC_RELAXED))
    ;
  long seen = shared; /* @outside */
  pthread_join(t, NULL);
  printf("done %ld\n", seen);
  return 0;
}
