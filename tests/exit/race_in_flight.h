/* The race every race_then_*.c program ends the process in the middle of: two
 * threads race on `x`, and `race_and_wait_until_reporting` returns once the second
 * thread is building its report. Relaxed flags order the steps in time without
 * synchronizing anything. main knows the report has begun when the second thread,
 * after saying it is about to write, has used 2 ms of CPU time: the racy write itself
 * takes microseconds, the report (symbolization) far longer. Both threads are
 * detached, so that neither is a thread leak at the exit. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

int x;
int first_done, second_started;

static void *first(void *arg) {
  x = 1;
  __atomic_store_n(&first_done, 1, __ATOMIC_RELAXED);
  return arg;
}

static void *second(void *arg) {
  while (!__atomic_load_n(&first_done, __ATOMIC_RELAXED))
    ;
  __atomic_store_n(&second_started, 1, __ATOMIC_RELAXED);
  x = 2; // the race
  return arg;
}

static long long cpu_ns(clockid_t clock) {
  struct timespec ts;
  if (clock_gettime(clock, &ts) != 0)
    return -1; // the thread is gone
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Returns once thread `t` is inside its report (or done with it). */
static void wait_until_reporting(pthread_t t) {
  clockid_t clock;
  if (pthread_getcpuclockid(t, &clock) != 0)
    return;
  while (!__atomic_load_n(&second_started, __ATOMIC_RELAXED))
    ;
  long long start = cpu_ns(clock);
  for (;;) {
    long long now = cpu_ns(clock);
    if (start < 0 || now < 0 || now - start >= 2000000)
      return;
    struct timespec pause = {0, 100000};
    nanosleep(&pause, NULL);
  }
}

/* Starts the race and returns once the second thread is inside its report. */
static void race_and_wait_until_reporting(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, first, NULL);
  pthread_create(&b, NULL, second, NULL);
  pthread_detach(a);
  wait_until_reporting(b);
  pthread_detach(b);
}
