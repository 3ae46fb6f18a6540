// umbra: race
/* volatile is not synchronisation: a payload published through a volatile flag.
 * Both the flag and the payload race (two reports, four marked lines). */
#include <pthread.h>
#include <stdio.h>

long payload __attribute__((aligned(64)));
volatile int flag __attribute__((aligned(64)));

static void *publisher(void *arg) {
  payload = 42; // RACE
  flag = 1; // RACE
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, publisher, NULL);
  while (!flag) // RACE
    ;
  long seen = payload; // RACE
  pthread_join(t, NULL);
  printf("%ld\n", seen);
  return 0;
}
