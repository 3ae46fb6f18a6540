/* A worker walks a binary recursion through two distinct functions, so every leaf
 * has its own call path (about four million call-tree nodes, as rayon's nested
 * joins make), writing one array cell per leaf. Afterwards it writes
 * deep_target three calls deep, racing with main. The call tree must stay bounded
 * and the race's previous stack must still be complete. */
#include <pthread.h>
#include <stdio.h>

#define DEPTH 20

long cells[1 << DEPTH];
long next_cell;
int deep_target;
int deep_done;

__attribute__((noinline)) static void branch(int depth, long path);

__attribute__((noinline)) static void left(int depth, long path) {
  branch(depth, path);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void right(int depth, long path) {
  branch(depth, path);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void branch(int depth, long path) {
  if (depth == 0) {
    cells[next_cell++] = path;
    return;
  }
  left(depth - 1, path * 2);
  right(depth - 1, path * 2 + 1);
}

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

static void *paths_worker(void *arg) {
  branch(DEPTH, 0);
  level_a(1); // @worker
  __atomic_store_n(&deep_done, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, paths_worker, NULL);
  while (!__atomic_load_n(&deep_done, __ATOMIC_RELAXED))
    ;
  int v = deep_target; // @cur
  pthread_join(t, NULL);
  printf("deep=%d cells=%ld\n", v, next_cell);
  return 0;
}
