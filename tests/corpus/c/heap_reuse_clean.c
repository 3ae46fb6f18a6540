// umbra: clean
/* A thread mallocs, writes and frees many blocks; afterwards (ordered only by a relaxed
 * flag, which is no synchronisation) the main thread mallocs blocks of the same size and
 * writes them. A fresh allocation is new memory: no race even where an address is reused
 * (the program prints how many were). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SIZE 48
#define BLOCKS 4096

atomic_int freed;
uintptr_t first_addresses[BLOCKS];
char *second[BLOCKS];

static void *first_owner(void *arg) {
  static char *blocks[BLOCKS];
  for (int b = 0; b < BLOCKS; b++) {
    blocks[b] = malloc(SIZE);
    for (int i = 0; i < SIZE; i++)
      blocks[b][i] = (char)i;
    first_addresses[b] = (uintptr_t)blocks[b];
  }
  for (int b = 0; b < BLOCKS; b++)
    free(blocks[b]);
  atomic_store_explicit(&freed, 1, memory_order_relaxed);
  return arg;
}

static int compare(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return (x > y) - (x < y);
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, first_owner, NULL);
  while (!atomic_load_explicit(&freed, memory_order_relaxed))
    ;
  for (int b = 0; b < BLOCKS; b++) {
    second[b] = malloc(SIZE);
    for (int i = 0; i < SIZE; i++)
      second[b][i] = (char)(SIZE - i);
  }
  pthread_join(t, NULL);
  qsort(first_addresses, BLOCKS, sizeof first_addresses[0], compare);
  int reused = 0;
  for (int b = 0; b < BLOCKS; b++) {
    uintptr_t key = (uintptr_t)second[b];
    reused += bsearch(&key, first_addresses, BLOCKS, sizeof key, compare) != NULL;
    free(second[b]);
  }
  printf("addresses reused: %d of %d\n", reused, BLOCKS);
  return 0;
}
