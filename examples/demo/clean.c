/* Race-free: the same counter, protected by a mutex, and a flag published with
 * release/acquire fences that stock ThreadSanitizer cannot see. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

static long counter;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int payload;
static atomic_int ready;

static void *worker(void *arg) {
  for (int i = 0; i < 1000; i++) {
    pthread_mutex_lock(&lock);
    counter++;
    pthread_mutex_unlock(&lock);
  }
  return arg;
}

static void *producer(void *arg) {
  payload = 42;
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&ready, 1, memory_order_relaxed);
  return arg;
}

int main(void) {
  pthread_t a, b, p;
  pthread_create(&a, NULL, worker, NULL);
  pthread_create(&b, NULL, worker, NULL);
  pthread_create(&p, NULL, producer, NULL);
  while (!atomic_load_explicit(&ready, memory_order_relaxed))
    ;
  atomic_thread_fence(memory_order_acquire);
  int seen = payload;
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  pthread_join(p, NULL);
  printf("counter = %ld, payload = %d\n", counter, seen);
  return 0;
}
