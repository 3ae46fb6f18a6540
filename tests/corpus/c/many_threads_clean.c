// umbra: clean
/* 3000 short threads created and joined one after another, each incrementing a
 * shared counter: the create/join chain orders every increment. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 3000

long counter;

static void *bump(void *arg) {
  counter++;
  return arg;
}

int main(void) {
  for (int i = 0; i < THREADS; i++) {
    pthread_t t;
    pthread_create(&t, NULL, bump, NULL);
    pthread_join(t, NULL);
  }
  printf("%ld\n", counter);
  return counter == THREADS ? 0 : 1;
}
