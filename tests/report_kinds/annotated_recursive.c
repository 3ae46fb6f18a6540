// exit: 0
// stderr-clean
// stdout: released 2
// stdout: total 2000
// stock
//
// A recursive annotated mutex (`__tsan_mutex_write_reentrant`): its owner locks
// it twice, gives both holds up at once (`__tsan_mutex_recursive_unlock`, which
// returns how many, as a condition wait on a recursive mutex does), takes them
// back with `__tsan_mutex_recursive_lock`, and unlocks twice. Two threads do so
// around their increments: no misuse, no race. The run prints "released 2" and
// "total 2000" and exits 0.
#include <pthread.h>
#include <stdio.h>
#include <sanitizer/tsan_interface.h>

static int state; /* relaxed atomic: 0 free, else the owner */
static int depth; /* only touched by the owner */
static long total;
static int released_holds;

static void rlock(long me) {
  __tsan_mutex_pre_lock(&state, 0);
  if (__atomic_load_n(&state, __ATOMIC_RELAXED) != me) {
    int expected = 0;
    while (!__atomic_compare_exchange_n(&state, &expected, (int)me, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
      expected = 0;
  }
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  depth++;
  __tsan_mutex_post_lock(&state, 0, 0);
}

static void runlock(void) {
  __tsan_mutex_pre_unlock(&state, 0);
  if (--depth == 0) {
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&state, 0, __ATOMIC_RELAXED);
  }
  __tsan_mutex_post_unlock(&state, 0);
}

static void *worker(void *arg) {
  long me = (long)arg;
  for (int i = 0; i < 1000; i++) {
    rlock(me);
    rlock(me);
    total++;
    int n = __tsan_mutex_pre_unlock(&state, __tsan_mutex_recursive_unlock);
    __tsan_mutex_post_unlock(&state, __tsan_mutex_recursive_unlock);
    __tsan_mutex_pre_lock(&state, 0);
    __tsan_mutex_post_lock(&state, __tsan_mutex_recursive_lock, n);
    if (me == 1 && i == 0)
      released_holds = n;
    runlock();
    runlock();
  }
  return NULL;
}

int main(void) {
  __tsan_mutex_create(&state, __tsan_mutex_write_reentrant);
  pthread_t t1, t2;
  pthread_create(&t1, NULL, worker, (void *)1);
  pthread_create(&t2, NULL, worker, (void *)2);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  printf("released %d\n", released_holds);
  printf("total %ld\n", total);
  return 0;
}
