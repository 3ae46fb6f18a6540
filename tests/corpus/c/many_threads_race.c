// umbra: race
/* 3000 short threads, but each is created before its predecessor is joined, so
 * neighbouring threads' increments of the shared counter are unordered. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 3000

long counter;

static void *bump(void *arg) {
  counter++; // RACE
  return arg;
}

int main(void) {
  pthread_t previous;
  pthread_create(&previous, NULL, bump, NULL);
  for (int i = 1; i < THREADS; i++) {
    pthread_t next;
    pthread_create(&next, NULL, bump, NULL);
    pthread_join(previous, NULL);
    previous = next;
  }
  pthread_join(previous, NULL);
  printf("%ld\n", counter);
  return 0;
}
