// umbra: clean
// stock: race
/* An Arc-like shared object: every owner drops its reference with fetch_sub(release);
 * the owner that drops the last one issues atomic_thread_fence(acquire) before freeing
 * (the Rust Arc / Boost pattern), so the other owner's reads happen before the free.
 * The main thread waits (relaxed, no synchronisation) until the worker has dropped its
 * reference, so it is always the last owner. Stock TSan ignores the fence and reports
 * the free racing with the worker's accesses. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct shared {
  atomic_long refs;
  long data[4];
};

static void release_ref(struct shared *obj) {
  if (atomic_fetch_sub_explicit(&obj->refs, 1, memory_order_release) == 1) {
    atomic_thread_fence(memory_order_acquire);
    free(obj);
  }
}

static void *worker(void *arg) {
  struct shared *obj = arg;
  long sum = obj->data[0] + obj->data[3];
  release_ref(obj);
  return (void *)sum;
}

int main(void) {
  struct shared *obj = malloc(sizeof *obj);
  atomic_init(&obj->refs, 2);
  for (int i = 0; i < 4; i++)
    obj->data[i] = i;
  pthread_t t;
  pthread_create(&t, NULL, worker, obj);
  long mine = obj->data[1];
  while (atomic_load_explicit(&obj->refs, memory_order_relaxed) != 1)
    ;
  release_ref(obj);
  void *sum;
  pthread_join(t, &sum);
  printf("%ld\n", (long)sum + mine);
  return 0;
}
