// exit: 66
// reports: 1
// stdout: trylock 0
// stderr: WARNING: ThreadSanitizer: data race (pid=
// frame: worker @read
// frame: main @write
// stock
//
// A failed try-lock (`__tsan_mutex_try_lock_failed`) acquires nothing: main
// writes `data`, unlocks the annotated spin mutex (publishing the write in it)
// and locks it again; a worker's try-lock then fails, and its read of `data`
// races with main's write. (Were the failed try-lock an acquire, the read would
// look ordered.) The run prints "trylock 0" and exits 66.
#include <pthread.h>
#include <stdio.h>

#include "spin_mutex.h"

static spin_mutex m;
static long data;
static int go, done;

static void *worker(void *arg) {
  while (!__atomic_load_n(&go, __ATOMIC_RELAXED))
    ;
  int taken = spin_trylock(&m, 2);
  long seen = data; /* @read */
  printf("trylock %d\n", taken);
  __atomic_store_n(&done, 1, __ATOMIC_RELAXED);
  return (void *)seen;
}

int main(void) {
  spin_init(&m, 0);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  spin_lock(&m, 1);
  data = 1; /* @write */
  spin_unlock(&m);
  spin_lock(&m, 1);
  __atomic_store_n(&go, 1, __ATOMIC_RELAXED);
  while (!__atomic_load_n(&done, __ATOMIC_RELAXED))
    ;
  spin_unlock(&m);
  pthread_join(t, NULL);
  return 0;
}
