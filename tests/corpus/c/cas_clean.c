// umbra: clean
/* A lock built from compare-exchange: one thread acquires it with
 * compare_exchange_weak(acquire), the other with compare_exchange_strong(acquire);
 * both release it with a release store. It protects a plain counter. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

atomic_int lock __attribute__((aligned(64)));
long counter __attribute__((aligned(64)));

static void lock_weak(void) {
  int expected = 0;
  while (!atomic_compare_exchange_weak_explicit(&lock, &expected, 1, memory_order_acquire,
                                                memory_order_relaxed))
    expected = 0;
}

static void lock_strong(void) {
  int expected = 0;
  while (!atomic_compare_exchange_strong_explicit(&lock, &expected, 1, memory_order_acquire,
                                                  memory_order_relaxed))
    expected = 0;
}

static void unlock(void) { atomic_store_explicit(&lock, 0, memory_order_release); }

static void *weak_worker(void *arg) {
  for (int i = 0; i < 5000; i++) {
    lock_weak();
    counter++;
    unlock();
  }
  return arg;
}

static void *strong_worker(void *arg) {
  for (int i = 0; i < 5000; i++) {
    lock_strong();
    counter++;
    unlock();
  }
  return arg;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, weak_worker, NULL);
  pthread_create(&b, NULL, strong_worker, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("%ld\n", counter);
  return counter == 10000 ? 0 : 1;
}
