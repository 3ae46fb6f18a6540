/* One race between two critical sections on different mutexes: worker writes `x`
 * holding the statically initialized `m1`, then main reads it holding `m0` (made by
 * pthread_mutex_init). A relaxed flag orders the accesses without synchronizing them. */
#include <pthread.h>
#include <stdio.h>

int x;
int done;
pthread_mutex_t m0;
pthread_mutex_t m1 = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
  pthread_mutex_lock(&m1); // @lock1
  x = 1; // @prev
  pthread_mutex_unlock(&m1);
  __atomic_store_n(&done, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_mutex_init(&m0, NULL); // @init0
  pthread_create(&t, NULL, worker, NULL); // @create
  while (!__atomic_load_n(&done, __ATOMIC_RELAXED))
    ;
  pthread_mutex_lock(&m0);
  int v = x; // @cur
  pthread_mutex_unlock(&m0);
  pthread_join(t, NULL);
  printf("x=%d\n", v);
  return 0;
}
