// umbra: clean
/* Data written before pthread_create is visible to the thread; data the thread writes
 * is visible to the main thread after pthread_join. */
#include <pthread.h>
#include <stdio.h>

long input[8];
long output[8];

static void *worker(void *arg) {
  for (int i = 0; i < 8; i++)
    output[i] = input[i] * 2;
  return arg;
}

int main(void) {
  for (int i = 0; i < 8; i++)
    input[i] = i;
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  long sum = 0;
  for (int i = 0; i < 8; i++) {
    sum += output[i];
    input[i] = 0;
  }
  printf("%ld\n", sum);
  return sum == 56 ? 0 : 1;
}
