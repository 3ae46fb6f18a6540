// exit: 0
// stdout: done
// stderr-clean
// stock
//
// A thread still running when the process exits is no leak (it has not finished):
// the worker blocks forever; main returns; nothing is reported, exit 0.
#include <stdio.h>
#include "exited.h"

static int started;

static void *worker(void *arg) {
  __atomic_store_n(&started, 1, __ATOMIC_RELEASE);
  for (;;)
    pause();
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
    usleep(1000);
  printf("done\n");
  return 0;
}
