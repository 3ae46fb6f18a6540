// umbra: clean
// stock: race
/* Fence-based publication: payload write, atomic_thread_fence(release), relaxed flag
 * store; the reader's relaxed load that sees the flag, then atomic_thread_fence(acquire),
 * synchronises with the writer (C11 7.17.4). Stock TSan ignores standalone fences and
 * reports a false race
 * between the payload write and the payload read. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

long payload __attribute__((aligned(64)));
atomic_int flag __attribute__((aligned(64)));

static void *publisher(void *arg) {
  payload = 42;
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&flag, 1, memory_order_relaxed);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, publisher, NULL);
  while (!atomic_load_explicit(&flag, memory_order_relaxed))
    ;
  atomic_thread_fence(memory_order_acquire);
  long seen = payload;
  pthread_join(t, NULL);
  printf("%ld\n", seen);
  return seen == 42 ? 0 : 1;
}
