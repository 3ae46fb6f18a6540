// umbra: clean
/* A recursive mutex taken twice (nested) by each of two threads protects a counter. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t lock;
long counter;

static void add_locked(void) {
  pthread_mutex_lock(&lock);
  counter++;
  pthread_mutex_unlock(&lock);
}

static void *worker(void *arg) {
  for (int i = 0; i < 5000; i++) {
    pthread_mutex_lock(&lock);
    counter++;
    add_locked();
    pthread_mutex_unlock(&lock);
  }
  return arg;
}

int main(void) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&lock, &attr);
  pthread_mutexattr_destroy(&attr);
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  pthread_mutex_destroy(&lock);
  printf("%ld\n", counter);
  return counter == 20000 ? 0 : 1;
}
