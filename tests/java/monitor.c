// exit: 0
// stdout: done
// stderr-clean
// stock
//
// Two threads write a field of a Java object, each inside the object's monitor
// (__tsan_java_mutex_lock/unlock): the monitor orders them, no race.
#include "java_api.h"

static uint64_t barrier;
static jptr object;

static void *writer(void *arg) {
  (void)arg;
  __tsan_testonly_barrier_wait(&barrier);
  __tsan_java_mutex_lock(object + 8);
  *(int *)object = 42;
  __tsan_java_mutex_unlock(object + 8);
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  jptr heap = java_heap();
  object = heap;
  __tsan_java_alloc(object, 16);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  __tsan_java_mutex_lock(object + 8);
  *(int *)object = 43;
  __tsan_java_mutex_unlock(object + 8);
  __tsan_testonly_barrier_wait(&barrier);
  pthread_join(t, NULL);
  __tsan_java_free(object, 16);
  printf("done\n");
  return __tsan_java_fini();
}
