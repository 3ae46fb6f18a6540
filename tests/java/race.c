// exit: 66
// reports: 1
// stderr: WARNING: ThreadSanitizer: data race
// stderr: Location is heap block of size 16
// stdout: done
// stock
//
// Two threads write a field of a Java object with nothing ordering them: one race,
// whose location is the object (a 16-byte heap block allocated by
// __tsan_java_alloc, not the malloc'd block holding the heap). __tsan_java_fini
// returns the exit code, 66.
#include "java_api.h"

static uint64_t barrier;
static jptr object;

static void *writer(void *arg) {
  (void)arg;
  __tsan_testonly_barrier_wait(&barrier);
  *(int *)object = 42;
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  jptr heap = java_heap();
  object = heap + 64;
  __tsan_java_alloc(object, 16);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  *(int *)object = 43;
  __tsan_testonly_barrier_wait(&barrier);
  pthread_join(t, NULL);
  __tsan_java_free(object, 16);
  printf("done\n");
  fflush(stdout);
  return __tsan_java_fini();
}
