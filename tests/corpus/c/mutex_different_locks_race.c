// umbra: race
/* Each thread holds a mutex while writing, but they hold different mutexes. */
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
long counter;

static void *worker_a(void *arg) {
  pthread_mutex_lock(&lock_a);
  counter += 1; // RACE
  pthread_mutex_unlock(&lock_a);
  return arg;
}

static void *worker_b(void *arg) {
  pthread_mutex_lock(&lock_b);
  counter += 2; // RACE
  pthread_mutex_unlock(&lock_b);
  return arg;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, worker_a, NULL);
  pthread_create(&b, NULL, worker_b, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("%ld\n", counter);
  return 0;
}
