/* The test barrier works for any number of threads (300 here, over two rounds),
 * and being invisible it makes no race out of mutex-protected counting.
 * expect: no report, stdout "600", exit code 0. */
#include <pthread.h>
#include <stdio.h>

void __tsan_testonly_barrier_init(unsigned long long *barrier, unsigned count);
void __tsan_testonly_barrier_wait(unsigned long long *barrier);

#define THREADS 300
static unsigned long long barrier;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int arrived;

static void *worker(void *arg) {
  (void)arg;
  for (int round = 0; round < 2; round++) {
    pthread_mutex_lock(&lock);
    arrived++;
    pthread_mutex_unlock(&lock);
    __tsan_testonly_barrier_wait(&barrier);
  }
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, THREADS);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  printf("%d\n", arrived);
  return 0;
}
