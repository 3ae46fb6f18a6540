// umbra: clean
/* The Chase–Lev pattern: the owner publishes with a release store, then stores the
 * same location again with a relaxed store (a deque owner popping by decrementing
 * `bottom`). A reader whose acquire load sees the relaxed store still synchronizes
 * with the release: in C11/C++11 a release sequence continues through later stores
 * of its own thread (crossbeam-deque and rayon rely on this). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

long job __attribute__((aligned(64)));
atomic_long bottom __attribute__((aligned(64)));

static void *owner(void *arg) {
  job = 42;
  atomic_store_explicit(&bottom, 2, memory_order_release); /* push */
  atomic_store_explicit(&bottom, 1, memory_order_relaxed); /* pop */
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, owner, NULL);
  while (atomic_load_explicit(&bottom, memory_order_acquire) != 1)
    ;
  long seen = job;
  pthread_join(t, NULL);
  printf("%ld\n", seen);
  return seen == 42 ? 0 : 1;
}
