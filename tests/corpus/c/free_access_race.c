// umbra: race
/* A thread writes a heap block; the main thread frees it without synchronising
 * (the sleep only makes the write come first; it is not synchronisation).
 * Reported as a data race (free vs write) or, if the write comes late, heap-use-after-free. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

int *block;

static void *writer(void *arg) {
  block[0] = 1; // RACE
  return arg;
}

int main(void) {
  block = malloc(16 * sizeof(int));
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  usleep(100 * 1000);
  free(block); // RACE
  pthread_join(t, NULL);
  return 0;
}
