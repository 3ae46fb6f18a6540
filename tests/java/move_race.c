// exit: 66
// reports: 1
// stderr: WARNING: ThreadSanitizer: data race
// stderr: Location is heap block of size 64
// stdout: done
// stock
//
// A race found after a move: the collector moves a 64-byte object; then two
// threads write the same field at its new address, unordered. The race is
// reported, located in the object at its new place (a 64-byte block).
#include "java_api.h"

static uint64_t barrier;
static jptr moved;

static void *writer(void *arg) {
  (void)arg;
  __tsan_testonly_barrier_wait(&barrier);
  *(int *)(moved + 16) = 42;
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  jptr heap = java_heap();
  jptr object = heap + 128;
  moved = heap + 4096;
  __tsan_java_alloc(object, 64);
  *(int *)(object + 16) = 1;
  __tsan_java_move(object, moved, 64);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  *(int *)(moved + 16) = 43;
  __tsan_testonly_barrier_wait(&barrier);
  pthread_join(t, NULL);
  __tsan_java_free(moved, 64);
  printf("done\n");
  fflush(stdout);
  return __tsan_java_fini();
}
