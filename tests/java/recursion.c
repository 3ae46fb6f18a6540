// exit: 0
// stdout: done
// stderr-clean
// stock
//
// A monitor taken twice is released only by the second unlock: the thread writes
// the field after its first unlock, still holding the monitor once, so the main
// thread, locking the monitor after the thread let it go, is ordered after that
// write. No race.
#include "java_api.h"

static uint64_t barrier;
static jptr object;

static void *writer(void *arg) {
  (void)arg;
  __tsan_java_mutex_lock(object + 8);
  __tsan_java_mutex_lock(object + 8);
  __tsan_java_mutex_unlock(object + 8);
  *(int *)object = 42;
  __tsan_java_mutex_unlock(object + 8);
  __tsan_testonly_barrier_wait(&barrier);
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  jptr heap = java_heap();
  object = heap;
  __tsan_java_alloc(object, 16);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  __tsan_testonly_barrier_wait(&barrier);
  __tsan_java_mutex_lock(object + 8);
  *(int *)object = 43;
  __tsan_java_mutex_unlock(object + 8);
  pthread_join(t, NULL);
  __tsan_java_free(object, 16);
  printf("done\n");
  return __tsan_java_fini();
}
