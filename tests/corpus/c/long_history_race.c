// umbra: race
// stock-previous: lost
/* The first racing access is followed by ten million unrelated accesses (a sweep
 * over an 80 MB array) before the second thread's racing access: the report must
 * still show where the first access happened. The relaxed flag only makes the
 * second access come last; relaxed atomics do not synchronise. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define N 10000000
long shared; /* global and printed: gcc may not drop the stores */
static long *array;
static atomic_int swept;

static void first_access(void) {
  shared = 1; // RACE
}

static void *sweeper(void *arg) {
  first_access();
  for (long i = 0; i < N; i++)
    array[i] = i;
  atomic_store_explicit(&swept, 1, memory_order_relaxed);
  return arg;
}

int main(void) {
  array = malloc(N * sizeof(long));
  pthread_t t;
  pthread_create(&t, NULL, sweeper, NULL);
  while (!atomic_load_explicit(&swept, memory_order_relaxed))
    ;
  shared = 2; // RACE
  pthread_join(t, NULL);
  printf("%ld %ld\n", shared, array[N - 1]);
  free(array);
  return 0;
}
