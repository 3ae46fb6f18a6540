// umbra: race
/* A thread memsets a shared buffer while the main thread reads one of its bytes. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

char shared[256] __attribute__((aligned(64)));
size_t length = sizeof shared;
int fill = 'z';

static void *clearer(void *arg) {
  memset(shared, fill, length); // RACE
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, clearer, NULL);
  char seen = shared[100]; // RACE
  pthread_join(t, NULL);
  printf("%d\n", seen);
  return 0;
}
