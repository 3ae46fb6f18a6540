// exit: 0
// stdout: done
// stderr-clean
// stock
//
// An object's monitor moves with it: the main thread writes a global under the
// monitor at the object's old address; after the object is moved, a thread takes
// the monitor at the new address and writes the global. The moved monitor carries
// the main thread's release: no race. (Were the monitor left behind, the thread
// would lock a fresh one and race.)
#include "java_api.h"

static uint64_t barrier;
static jptr moved;
static int global;

static void *writer(void *arg) {
  (void)arg;
  __tsan_testonly_barrier_wait(&barrier);
  __tsan_java_mutex_lock(moved + 24);
  global = 42;
  __tsan_java_mutex_unlock(moved + 24);
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  jptr heap = java_heap();
  jptr object = heap + 32;
  moved = heap + 2048;
  __tsan_java_alloc(object, 64);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  __tsan_java_mutex_lock(object + 24);
  global = 43;
  __tsan_java_mutex_unlock(object + 24);
  __tsan_java_move(object, moved, 64);
  __tsan_testonly_barrier_wait(&barrier);
  pthread_join(t, NULL);
  __tsan_java_free(moved, 64);
  printf("done\n");
  return __tsan_java_fini();
}
