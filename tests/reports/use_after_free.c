/* Thread T1 frees a block main allocated; main, ordered after the free only by a
 * relaxed flag, then reads the freed block: heap-use-after-free. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int *block;
int freed;

static void *freer(void *arg) {
  free(block); // @free
  __atomic_store_n(&freed, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(void) {
  block = malloc(8 * sizeof(int)); // @alloc
  block[1] = 5;
  pthread_t t;
  pthread_create(&t, NULL, freer, NULL); // @create
  while (!__atomic_load_n(&freed, __ATOMIC_RELAXED))
    ;
  int v = block[1]; // @cur
  pthread_join(t, NULL);
  printf("%d\n", v);
  return 0;
}
