// umbra: race
/* A thread writes a global while the main thread reads it, no synchronisation. */
#include <pthread.h>
#include <stdio.h>

int global;

static void *writer(void *arg) {
  global = 42; // RACE
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  int seen = global; // RACE
  pthread_join(t, NULL);
  printf("seen %d\n", seen);
  return 0;
}
