// umbra: clean
/* Release sequence: A writes the payload and stores flag=1 with release; C (a third
 * thread) waits for 1 and does a RELAXED fetch_add (flag=2), which continues A's release
 * sequence; B acquire-loads 2 and therefore synchronises with A. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

long payload __attribute__((aligned(64)));
atomic_int flag __attribute__((aligned(64)));

static void *thread_a(void *arg) {
  payload = 42;
  atomic_store_explicit(&flag, 1, memory_order_release);
  return arg;
}

static void *thread_c(void *arg) {
  while (atomic_load_explicit(&flag, memory_order_relaxed) != 1)
    ;
  atomic_fetch_add_explicit(&flag, 1, memory_order_relaxed);
  return arg;
}

int main(void) {
  pthread_t a, c;
  pthread_create(&c, NULL, thread_c, NULL);
  pthread_create(&a, NULL, thread_a, NULL);
  while (atomic_load_explicit(&flag, memory_order_acquire) != 2)
    ;
  long seen = payload;
  payload = 0;
  pthread_join(a, NULL);
  pthread_join(c, NULL);
  printf("%ld\n", seen);
  return seen == 42 ? 0 : 1;
}
