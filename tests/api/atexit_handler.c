/* `atexit` handlers run at exit, after main's return, in reverse order of
 * registration, and their registration happens before they run: a thread
 * registers one after writing `result`, and the handler's read of it (on the
 * main thread, ordered after the write by nothing else: the test barrier is
 * invisible) does not race.
 * expect: no report, stdout "main returns\nsecond handler\nfirst handler sees
 * 42", exit code 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

void __tsan_testonly_barrier_init(unsigned long long *barrier, unsigned count);
void __tsan_testonly_barrier_wait(unsigned long long *barrier);

static unsigned long long barrier;
int result;

static void first_handler(void) { printf("first handler sees %d\n", result); }

static void second_handler(void) { printf("second handler\n"); }

static void *worker(void *arg) {
  (void)arg;
  result = 42;
  atexit(first_handler);
  __tsan_testonly_barrier_wait(&barrier);
  return NULL;
}

int main(void) {
  __tsan_testonly_barrier_init(&barrier, 2);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_detach(t);
  __tsan_testonly_barrier_wait(&barrier);
  atexit(second_handler);
  printf("main returns\n");
  return 0;
}
