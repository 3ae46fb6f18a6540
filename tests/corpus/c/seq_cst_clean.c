// umbra: clean
/* Publication with seq_cst operations (default-order store/load, exchange, fetch_add). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

long payload[2] __attribute__((aligned(64)));
atomic_int flag __attribute__((aligned(64)));
atomic_int turn __attribute__((aligned(64)));

static void *publisher(void *arg) {
  payload[0] = 1;
  atomic_store(&flag, 1);
  while (atomic_load(&turn) != 1)
    ;
  payload[1] = 2;
  atomic_exchange(&flag, 2);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, publisher, NULL);
  while (atomic_load(&flag) != 1)
    ;
  long sum = payload[0];
  payload[0] = 10;
  atomic_fetch_add(&turn, 1);
  while (atomic_load(&flag) != 2)
    ;
  sum += payload[1];
  payload[1] = 20;
  pthread_join(t, NULL);
  printf("%ld\n", sum);
  return sum == 3 ? 0 : 1;
}
