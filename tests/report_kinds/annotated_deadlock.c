// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=
// stderr:   Mutex M1 acquired here while holding mutex M0 in main thread:
// stderr:   Mutex M0 acquired here while holding mutex M1 in thread T1:
// frame: main @lock_b
// frame: worker @lock_a
// stock
//
// Annotated mutexes take part in the lock order like pthread ones: main takes
// spin mutex a then b, a worker later b then a. Reported at the worker's
// pre-lock of a. The run prints "done" and exits 66.
#include <pthread.h>
#include <stdio.h>

#include "spin_mutex.h"

static spin_mutex a, b;

static void *worker(void *arg) {
  spin_lock(&b, 2);
  spin_lock(&a, 2); /* @lock_a */
  spin_unlock(&a);
  spin_unlock(&b);
  return arg;
}

int main(void) {
  spin_init(&a, 0);
  spin_init(&b, 0);
  spin_lock(&a, 1);
  spin_lock(&b, 1); /* @lock_b */
  spin_unlock(&b);
  spin_unlock(&a);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
