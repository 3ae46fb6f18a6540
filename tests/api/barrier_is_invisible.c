/* compiler-rt's test barrier orders threads without happens-before: the write
 * before the barrier races with the read after it.
 * expect: a data race report on `shared` (the write in writer, the read in main),
 * stdout "read 7", exit code 66. */
#include <pthread.h>
#include <stdio.h>

void __tsan_testonly_barrier_init(unsigned long long *barrier, unsigned count);
void __tsan_testonly_barrier_wait(unsigned long long *barrier);

static unsigned long long barrier;
static int shared;

static void *writer(void *arg) {
  (void)arg;
  shared = 7; /* WRITE */
  __tsan_testonly_barrier_wait(&barrier);
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  __tsan_testonly_barrier_wait(&barrier);
  printf("read %d\n", shared); /* READ */
  pthread_join(t, NULL);
  return 0;
}
