// exit: 0
// stdout: done
// stderr-clean
// stock
//
// A reader's release of a read-locked monitor orders it before the next writer:
// the thread reads the field under the read lock, then the main thread (after it,
// in time only) takes the write lock and writes the field. No race.
#include "java_api.h"

static uint64_t barrier;
static jptr object;
static int seen;

static void *reader(void *arg) {
  (void)arg;
  __tsan_java_mutex_read_lock(object + 8);
  seen = *(int *)object;
  __tsan_java_mutex_read_unlock(object + 8);
  __tsan_testonly_barrier_wait(&barrier);
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  jptr heap = java_heap();
  object = heap;
  __tsan_java_alloc(object, 16);
  pthread_t t;
  pthread_create(&t, NULL, reader, NULL);
  __tsan_testonly_barrier_wait(&barrier);
  __tsan_java_mutex_lock(object + 8);
  *(int *)object = 43;
  __tsan_java_mutex_unlock(object + 8);
  pthread_join(t, NULL);
  __tsan_java_free(object, 16);
  printf("done\n");
  return __tsan_java_fini();
}
