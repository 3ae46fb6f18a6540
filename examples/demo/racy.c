/* A data race: two threads increment a shared counter with no lock. */
#include <pthread.h>
#include <stdio.h>

static long counter;

static void *worker(void *arg) {
  for (int i = 0; i < 1000; i++)
    counter++;
  return arg;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, worker, NULL);
  pthread_create(&b, NULL, worker, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("counter = %ld (expected 2000)\n", counter);
  return 0;
}
