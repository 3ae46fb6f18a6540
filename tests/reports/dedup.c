/* argv[1] = loop: two threads run the same racy loop, 100000 iterations each.
 * argv[1] = pairs: the same pair of source lines races on two different variables
 * (one report by default, two with suppress_equal_stacks=0). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

long loop_counter;
long pair_vars[2][8]; /* far apart: different shadow words */
int pair_done;

static void *looper(void *arg) {
  for (int i = 0; i < 100000; i++) loop_counter++; // @loop
  return arg;
}

__attribute__((noinline)) static void pair_write(long *p) {
  *p = 1; // @pair_write
}

__attribute__((noinline)) static long pair_read(long *p) {
  return *p; // @pair_read
}

static void *pair_worker(void *arg) {
  for (int i = 0; i < 2; i++)
    pair_write(&pair_vars[i][0]); // @pair_worker_call
  __atomic_store_n(&pair_done, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(int argc, char **argv) {
  const char *which = argc > 1 ? argv[1] : "";
  pthread_t a, b;
  long sum = 0;
  if (strcmp(which, "loop") == 0) {
    pthread_create(&a, NULL, looper, NULL);
    pthread_create(&b, NULL, looper, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    sum = loop_counter;
  } else if (strcmp(which, "pairs") == 0) {
    pthread_create(&a, NULL, pair_worker, NULL);
    while (!__atomic_load_n(&pair_done, __ATOMIC_RELAXED))
      ;
    for (int i = 0; i < 2; i++)
      sum += pair_read(&pair_vars[i][0]); // @pair_main_call
    pthread_join(a, NULL);
  } else {
    fprintf(stderr, "usage: dedup loop|pairs\n");
    return 2;
  }
  printf("%ld\n", sum > 0);
  return 0;
}
