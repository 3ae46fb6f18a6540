// umbra: race
/* sleep() is not synchronisation: the main thread reads after a sleep long enough for
 * the write to have happened, but nothing orders the two accesses. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

long global;

static void *writer(void *arg) {
  global = 42; // RACE
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  usleep(100 * 1000);
  long seen = global; // RACE
  pthread_join(t, NULL);
  printf("%ld\n", seen);
  return 0;
}
