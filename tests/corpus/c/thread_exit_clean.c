// umbra: clean
/* A thread writes its result and leaves through pthread_exit from a nested call;
 * the main thread joins it and reads both the global result and the exit value. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

long result;

static void finish(long *boxed) {
  result = 7;
  *boxed = 35;
  pthread_exit(boxed);
}

static void *worker(void *arg) {
  long *boxed = malloc(sizeof *boxed);
  finish(boxed);
  return arg; /* not reached */
}

int main(void) {
  pthread_t t;
  void *ret;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, &ret);
  long value = *(long *)ret + result;
  result = 0;
  free(ret);
  printf("%ld\n", value);
  return value == 42 ? 0 : 1;
}
