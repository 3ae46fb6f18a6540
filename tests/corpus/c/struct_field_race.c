// umbra: race
/* Two threads write the same field of a struct; the other field is private to one thread. */
#include <pthread.h>
#include <stdio.h>

struct pair {
  int mine;
  int shared;
} pair;

static void *worker(void *arg) {
  pair.mine = 7;
  pair.shared = 1; // RACE
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pair.shared = 2; // RACE
  pthread_join(t, NULL);
  printf("%d %d\n", pair.mine, pair.shared);
  return 0;
}
