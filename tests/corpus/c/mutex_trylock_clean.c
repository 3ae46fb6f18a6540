// umbra: clean
/* Two threads increment a counter under a mutex taken with pthread_mutex_trylock. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
long counter;

static void *worker(void *arg) {
  for (int i = 0; i < 5000; i++) {
    while (pthread_mutex_trylock(&lock) != 0)
      sched_yield();
    counter++;
    pthread_mutex_unlock(&lock);
  }
  return arg;
}

int main(void) {
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  printf("%ld\n", counter);
  return counter == 10000 ? 0 : 1;
}
