// umbra: race
// stock: clean
/* A relaxed store by another thread ends a release sequence (C11 and C++20 alike):
 * the reader's acquire load sees the second thread's relaxed store, which carries
 * nothing, so the payload accesses race. Stock TSan leaves a location's clock alone
 * on relaxed stores and misses this race. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

long payload __attribute__((aligned(64)));
atomic_long flag __attribute__((aligned(64)));
atomic_int bumped __attribute__((aligned(64)));

static void *publisher(void *arg) {
  payload = 42; // RACE
  atomic_store_explicit(&flag, 1, memory_order_release);
  return arg;
}

static void *bumper(void *arg) {
  while (atomic_load_explicit(&flag, memory_order_relaxed) != 1)
    ;
  atomic_store_explicit(&flag, 2, memory_order_relaxed);
  atomic_store_explicit(&bumped, 1, memory_order_relaxed);
  return arg;
}

int main(void) {
  pthread_t p, b;
  pthread_create(&p, NULL, publisher, NULL);
  pthread_create(&b, NULL, bumper, NULL);
  /* Wait without touching `flag`, so the acquire below reads the bumper's 2 (an
   * acquire reading the publisher's 1 would synchronize). */
  while (!atomic_load_explicit(&bumped, memory_order_relaxed))
    ;
  if (atomic_load_explicit(&flag, memory_order_acquire) != 2)
    return 1;
  long seen = payload; // RACE
  pthread_join(p, NULL);
  pthread_join(b, NULL);
  printf("%ld\n", seen);
  return 0;
}
