// exit: 66
// reports: 1
// stderr: WARNING: ThreadSanitizer: data race
// stdout: levels 3
// stdout: done
// stock
//
// __tsan_java_mutex_unlock_rec gives up all three levels of a monitor at once
// (as before Object.wait) and returns 3; the thread's write after it is outside
// the monitor and races with the main thread's write under it. The thread then
// re-takes the three levels with __tsan_java_mutex_lock_rec and unlocks them one
// by one: no misuse is reported, the race is the only report.
#include "java_api.h"

static uint64_t barrier;
static jptr object;

static void *waiter(void *arg) {
  (void)arg;
  __tsan_java_mutex_lock(object + 8);
  __tsan_java_mutex_lock(object + 8);
  __tsan_java_mutex_lock(object + 8);
  int levels = __tsan_java_mutex_unlock_rec(object + 8);
  printf("levels %d\n", levels);
  *(int *)object = 42;
  __tsan_testonly_barrier_wait(&barrier);
  __tsan_testonly_barrier_wait(&barrier);
  __tsan_java_mutex_lock_rec(object + 8, levels);
  for (int i = 0; i < levels; i++)
    __tsan_java_mutex_unlock(object + 8);
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  jptr heap = java_heap();
  object = heap;
  __tsan_java_alloc(object, 16);
  pthread_t t;
  pthread_create(&t, NULL, waiter, NULL);
  __tsan_testonly_barrier_wait(&barrier);
  __tsan_java_mutex_lock(object + 8);
  *(int *)object = 43;
  __tsan_java_mutex_unlock(object + 8);
  __tsan_testonly_barrier_wait(&barrier);
  pthread_join(t, NULL);
  __tsan_java_free(object, 16);
  printf("done\n");
  fflush(stdout);
  return __tsan_java_fini();
}
