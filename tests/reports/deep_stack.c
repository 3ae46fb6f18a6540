/* The previous access is three calls deep in another thread:
 * deep_worker -> level_a -> level_b -> level_c, which writes. */
#include <pthread.h>
#include <stdio.h>

int deep_target;
int deep_done;

__attribute__((noinline)) static void level_c(int v) {
  deep_target = v; // @c
}

__attribute__((noinline)) static void level_b(int v) {
  level_c(v + 1); // @b
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void level_a(int v) {
  level_b(v + 1); // @a
  __asm__ volatile("" ::: "memory");
}

static void *deep_worker(void *arg) {
  level_a(1); // @worker
  __atomic_store_n(&deep_done, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, deep_worker, NULL); // @create
  while (!__atomic_load_n(&deep_done, __ATOMIC_RELAXED))
    ;
  int v = deep_target; // @cur
  pthread_join(t, NULL);
  printf("deep=%d\n", v);
  return 0;
}
