// exit: 66
// stdout: done
// rule: heap-use-after-free
// site: main @use
// site: release @free
// related: heap block of size 16 allocated by main thread @alloc
//
// A worker frees a block main allocated; main reads the block after seeing a
// relaxed flag, which orders nothing: heap-use-after-free. Its SARIF result's
// primary location is the read, its related locations the free and the
// allocation, and its code flow has all three stacks.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int *data;
int released;
volatile int sink;

static void *release(void *arg) {
  free(data); /* @free */
  __atomic_store_n(&released, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(void) {
  data = malloc(4 * sizeof(int)); /* @alloc */
  data[2] = 7;
  pthread_t t;
  pthread_create(&t, NULL, release, NULL);
  while (!__atomic_load_n(&released, __ATOMIC_RELAXED))
    ;
  sink = data[2]; /* @use */
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
