// exit: 66
// reports: 1
// stdout: trylock 0
// stdout: done
// stderr: WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=
// stderr:   Mutex M1 acquired here while holding mutex M0 in main thread:
// frame: main @lock_b
// frame: worker @lock_a
// summary: lock-order-inversion (potential deadlock) @lock_b main
// stock
//
// A mutex taken with a try-lock is held like any other: main try-locks a, then
// waits for b while holding it (the edge a => b); a worker later takes b then a.
// Reported at the worker's lock of a. The run prints "trylock 0" and "done" and
// exits 66.
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
  pthread_mutex_lock(&b);
  pthread_mutex_lock(&a); /* @lock_a */
  pthread_mutex_unlock(&a);
  pthread_mutex_unlock(&b);
  return arg;
}

int main(void) {
  printf("trylock %d\n", pthread_mutex_trylock(&a));
  pthread_mutex_lock(&b); /* @lock_b */
  pthread_mutex_unlock(&b);
  pthread_mutex_unlock(&a);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
