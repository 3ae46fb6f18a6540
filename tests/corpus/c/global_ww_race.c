// umbra: race
/* The simplest race: two threads write the same global int, no synchronisation. */
#include <pthread.h>

int global;

static void *writer(void *arg) {
  global = 1; // RACE
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  global = 2; // RACE
  pthread_join(t, NULL);
  return 0;
}
