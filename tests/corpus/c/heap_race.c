// umbra: race
/* Two threads write the same element of a malloc'd block. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int *block;

static void *writer(void *arg) {
  block[3] = 1; // RACE
  return arg;
}

int main(void) {
  block = malloc(16 * sizeof(int));
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  block[3] = 2; // RACE
  pthread_join(t, NULL);
  printf("%d\n", block[3]);
  free(block);
  return 0;
}
