// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=
// stderr:   Cycle in lock order graph: M0 (0x
// stderr:   Mutex M1 acquired here while holding mutex M0 in main thread:
// stderr:   Mutex M0 acquired here while holding mutex M1 in thread T1:
// stderr:     HINT: use TSAN_OPTIONS=second_deadlock_stack=1 to get more informative warning message
// stderr:   Thread T1 (tid=
// frame: main @lock_b
// frame: worker @lock_a
// summary: lock-order-inversion (potential deadlock) @lock_b main
// stock
//
// main takes a then b; later (after main let go of both) a worker takes b then
// a. The run never deadlocks, but the two orders could: the worker's lock of a
// closes the cycle a => b => a and is reported there, naming a as M0 (the mutex
// being locked) and the edge a => b that main made first. The run prints "done"
// and exits 66.
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
  pthread_mutex_lock(&a); /* @main_lock_a */
  pthread_mutex_lock(&b); /* @lock_b */
  pthread_mutex_unlock(&b);
  pthread_mutex_unlock(&a);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
