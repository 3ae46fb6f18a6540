// umbra: clean
/* Publishing a payload with a release store; the reader's acquire load synchronises. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

long payload __attribute__((aligned(64)));
atomic_int flag __attribute__((aligned(64)));

static void *publisher(void *arg) {
  payload = 42;
  atomic_store_explicit(&flag, 1, memory_order_release);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, publisher, NULL);
  while (!atomic_load_explicit(&flag, memory_order_acquire))
    ;
  long seen = payload;
  payload = 0;
  pthread_join(t, NULL);
  printf("%ld\n", seen);
  return seen == 42 ? 0 : 1;
}
