// exit: 0
// stdout: done
// stderr-clean
// stock
//
// A volatile write and read as the JVM maps them: the writer publishes with
// __tsan_java_release_store, the reader, having seen the flag, takes it with
// __tsan_java_acquire; the writer's earlier plain write is ordered before the
// reader's. No race.
#include "java_api.h"
#include <unistd.h>

static jptr field, flag;

static void *reader(void *arg) {
  (void)arg;
  while (__atomic_load_n((int *)flag, __ATOMIC_RELAXED) == 0)
    usleep(1000);
  __tsan_java_acquire(flag);
  *(int *)field = 42;
  return NULL;
}

int main(void) {
  jptr heap = java_heap();
  __tsan_java_alloc(heap, 16);
  field = heap;
  flag = heap + 8;
  pthread_t t;
  pthread_create(&t, NULL, reader, NULL);
  *(int *)field = 43;
  __tsan_java_release_store(flag);
  __atomic_store_n((int *)flag, 1, __ATOMIC_RELAXED);
  pthread_join(t, NULL);
  __tsan_java_free(heap, 16);
  printf("done\n");
  return __tsan_java_fini();
}
