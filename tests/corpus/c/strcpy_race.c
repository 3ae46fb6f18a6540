// umbra: race
/* A thread strcpy()s into a shared buffer while the main thread writes its first byte. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

char shared[64] __attribute__((aligned(64)));
char greeting[64] = "hello from the other thread";

static void *copier(void *arg) {
  strcpy(shared, greeting); // RACE
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, copier, NULL);
  shared[0] = 'H'; // RACE
  pthread_join(t, NULL);
  printf("%s\n", shared);
  return 0;
}
