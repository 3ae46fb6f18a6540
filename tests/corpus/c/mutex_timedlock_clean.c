// umbra: clean
/* Two threads increment a counter under a mutex taken with pthread_mutex_timedlock. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
long counter;

static void *worker(void *arg) {
  for (int i = 0; i < 5000; i++) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    while (pthread_mutex_timedlock(&lock, &deadline) != 0)
      ;
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
