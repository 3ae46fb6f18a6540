// exit: 0
// stdout: done
// stderr-clean
// stock
//
// A finalizer runs after everything every thread did before it
// (__tsan_java_finalize): the main thread's write of the object, unordered with
// the finalizer thread by anything else, does not race with the finalizer's.
#include "java_api.h"

static uint64_t barrier;
static jptr object;

static void *finalizer(void *arg) {
  (void)arg;
  __tsan_testonly_barrier_wait(&barrier);
  __tsan_java_finalize();
  *(int *)object = 42;
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  jptr heap = java_heap();
  object = heap;
  __tsan_java_alloc(object, 16);
  pthread_t t;
  pthread_create(&t, NULL, finalizer, NULL);
  *(int *)object = 43;
  __tsan_testonly_barrier_wait(&barrier);
  pthread_join(t, NULL);
  __tsan_java_free(object, 16);
  printf("done\n");
  return __tsan_java_fini();
}
