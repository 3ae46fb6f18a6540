// umbra: race
/* Publishing a payload through a RELAXED atomic flag: the flag itself is race-free,
 * but relaxed operations do not synchronise, so the payload accesses race. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

long payload __attribute__((aligned(64)));
atomic_int flag __attribute__((aligned(64)));

static void *publisher(void *arg) {
  payload = 42; // RACE
  atomic_store_explicit(&flag, 1, memory_order_relaxed);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, publisher, NULL);
  while (!atomic_load_explicit(&flag, memory_order_relaxed))
    ;
  long seen = payload; // RACE
  pthread_join(t, NULL);
  printf("%ld\n", seen);
  return 0;
}
