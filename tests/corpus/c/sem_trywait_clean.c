// umbra: clean
/* A producer publishes items with sem_post; the consumer polls with sem_trywait. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>

#define ITEMS 200

sem_t ready;
long items[ITEMS];

static void *producer(void *arg) {
  for (int i = 0; i < ITEMS; i++) {
    items[i] = i * 3;
    sem_post(&ready);
  }
  return arg;
}

int main(void) {
  sem_init(&ready, 0, 0);
  pthread_t t;
  pthread_create(&t, NULL, producer, NULL);
  long sum = 0;
  for (int i = 0; i < ITEMS; i++) {
    while (sem_trywait(&ready) != 0)
      sched_yield();
    sum += items[i];
  }
  pthread_join(t, NULL);
  sem_destroy(&ready);
  printf("%ld\n", sum);
  return 0;
}
