/* LLVM 16's test.h declares the test barrier as a 4-byte `unsigned`: the runtime
 * must keep its state elsewhere and never write past those 4 bytes (here into
 * `neighbour`, as into the pipe fd that follows compiler-rt's `barrier` global
 * in its syscall test).
 * expect: no report, stdout "neighbour 7, twice through", exit code 0. */
#include <pthread.h>
#include <stdio.h>

void __tsan_testonly_barrier_init(unsigned *barrier, unsigned count);
void __tsan_testonly_barrier_wait(unsigned *barrier);

struct {
  unsigned barrier;
  int neighbour;
} pair = {0, 7};

static void *waiter(void *arg) {
  (void)arg;
  __tsan_testonly_barrier_wait(&pair.barrier);
  __tsan_testonly_barrier_wait(&pair.barrier);
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&pair.barrier, 2);
  pthread_t t;
  pthread_create(&t, NULL, waiter, NULL);
  __tsan_testonly_barrier_wait(&pair.barrier);
  __tsan_testonly_barrier_wait(&pair.barrier);
  pthread_join(t, NULL);
  printf("neighbour %d, twice through\n", pair.neighbour);
  return 0;
}
