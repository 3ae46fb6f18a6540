// umbra: race
/* An atomic store and a plain store to the same int race: one access being atomic is not enough. */
#include <pthread.h>
#include <stdio.h>

int value;

static void *atomic_writer(void *arg) {
  __atomic_store_n(&value, 1, __ATOMIC_RELAXED); // RACE
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, atomic_writer, NULL);
  value = 2; // RACE
  pthread_join(t, NULL);
  printf("%d\n", value);
  return 0;
}
