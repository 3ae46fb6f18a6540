// exit: 0
// stdout: done
// stderr-clean
// stock
//
// A move starts the object's new range with empty shadow (as compiler-rt does):
// the main thread's write before the move, at the old address, is forgotten, so
// another thread's unordered write of the same field at the new address is no
// race. (compiler-rt's java_race_move.cpp: the history of an access is kept by
// address and cannot follow the object.)
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
  jptr object = heap;
  moved = heap + 1024;
  __tsan_java_alloc(object, 64);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  *(int *)(object + 16) = 43;
  __tsan_java_move(object, moved, 64);
  __tsan_testonly_barrier_wait(&barrier);
  pthread_join(t, NULL);
  __tsan_java_free(moved, 64);
  printf("done\n");
  return __tsan_java_fini();
}
