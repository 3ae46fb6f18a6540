// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=
// stderr:   Mutex M1 acquired here while holding mutex M0 in main thread:
// stderr:   Mutex M2 acquired here while holding mutex M1 in thread T1:
// stderr:   Mutex M0 acquired here while holding mutex M2 in thread T2:
// frame: main @lock_b
// frame: worker1 @lock_c
// frame: worker2 @lock_a
// summary: lock-order-inversion (potential deadlock) @lock_b main
// stock
//
// Three mutexes, three threads, one after the other: main takes a then b, a
// first worker b then c, a second worker c then a. No two threads invert an
// order, but the three together could deadlock: the cycle a => b => c => a is
// reported at the second worker's lock of a. The run prints "done" and exits 66.
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t c = PTHREAD_MUTEX_INITIALIZER;

static void *worker1(void *arg) {
  pthread_mutex_lock(&b);
  pthread_mutex_lock(&c); /* @lock_c */
  pthread_mutex_unlock(&c);
  pthread_mutex_unlock(&b);
  return arg;
}

static void *worker2(void *arg) {
  pthread_mutex_lock(&c);
  pthread_mutex_lock(&a); /* @lock_a */
  pthread_mutex_unlock(&a);
  pthread_mutex_unlock(&c);
  return arg;
}

int main(void) {
  pthread_mutex_lock(&a);
  pthread_mutex_lock(&b); /* @lock_b */
  pthread_mutex_unlock(&b);
  pthread_mutex_unlock(&a);
  pthread_t t1, t2;
  pthread_create(&t1, NULL, worker1, NULL);
  pthread_join(t1, NULL);
  pthread_create(&t2, NULL, worker2, NULL);
  pthread_join(t2, NULL);
  printf("done\n");
  return 0;
}
