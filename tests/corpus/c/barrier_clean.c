// umbra: clean
/* Four threads each write their own slot, meet at a pthread barrier, then read every
 * slot; a second barrier separates those reads from the next round of writes. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 50

pthread_barrier_t barrier;
long slots[THREADS];
long totals[THREADS];

static void *worker(void *arg) {
  long me = (long)arg;
  for (int round = 0; round < ROUNDS; round++) {
    slots[me] = round + me;
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < THREADS; i++)
      totals[me] += slots[i];
    pthread_barrier_wait(&barrier);
  }
  return NULL;
}

int main(void) {
  pthread_barrier_init(&barrier, NULL, THREADS);
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    pthread_create(&t[i], NULL, worker, (void *)i);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  pthread_barrier_destroy(&barrier);
  printf("%ld\n", totals[0]);
  return 0;
}
