// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=
// stderr:   Mutex M1 acquired here while holding mutex M0 in main thread:
// stderr:   Mutex M0 acquired here while holding mutex M1 in thread T1:
// frame: main @wrlock_b
// frame: worker @rdlock_a
// summary: lock-order-inversion (potential deadlock) @wrlock_b main
// stock
//
// Read locks take part in the lock order too: main read-locks a, then
// write-locks b; a worker later write-locks b, then read-locks a (a writer
// waiting on a would block it). Reported at the worker's read lock of a. The run
// prints "done" and exits 66.
#include <pthread.h>
#include <stdio.h>

static pthread_rwlock_t a = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t b = PTHREAD_RWLOCK_INITIALIZER;

static void *worker(void *arg) {
  pthread_rwlock_wrlock(&b);
  pthread_rwlock_rdlock(&a); /* @rdlock_a */
  pthread_rwlock_unlock(&a);
  pthread_rwlock_unlock(&b);
  return arg;
}

int main(void) {
  pthread_rwlock_rdlock(&a);
  pthread_rwlock_wrlock(&b); /* @wrlock_b */
  pthread_rwlock_unlock(&b);
  pthread_rwlock_unlock(&a);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
