/* After 100000 longjmps out of three nested instrumented calls (which never run
 * their __tsan_func_exit), the shadow call stack must be back at main's depth:
 * the racing access's stack is racer <- main, nothing stale. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>

static jmp_buf env;
int shared;
static atomic_int written; /* relaxed: orders nothing, only makes racer() come last */

__attribute__((noinline)) void deep3(int n) {
  if (n)
    longjmp(env, 1);
}
__attribute__((noinline)) void deep2(int n) {
  deep3(n);
  shared += 0;
}
__attribute__((noinline)) void deep1(int n) {
  deep2(n);
  shared += 0;
}
__attribute__((noinline)) void racer(void) {
  shared = 5; // @cur
}
static void *worker(void *arg) {
  shared = 1; // @prev
  atomic_store_explicit(&written, 1, memory_order_relaxed);
  return arg;
}

int main(void) {
  for (int i = 0; i < 100000; i++)
    if (!setjmp(env))
      deep1(1);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  while (!atomic_load_explicit(&written, memory_order_relaxed))
    ;
  racer(); // @call
  pthread_join(t, NULL);
  printf("%d\n", shared);
  return 0;
}
