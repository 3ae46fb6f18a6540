// umbra: clean
/* pthread_tryjoin_np (polled) and pthread_timedjoin_np both synchronise with the
 * joined thread's writes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

long tried_result;
long timed_result;

static void *set_tried(void *arg) {
  tried_result = 11;
  return arg;
}

static void *set_timed(void *arg) {
  timed_result = 22;
  return arg;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, set_tried, NULL);
  while (pthread_tryjoin_np(a, NULL) != 0)
    sched_yield();
  long sum = tried_result;

  pthread_create(&b, NULL, set_timed, NULL);
  for (;;) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    if (pthread_timedjoin_np(b, NULL, &deadline) == 0)
      break;
  }
  sum += timed_result;
  tried_result = timed_result = 0;
  printf("%ld\n", sum);
  return sum == 33 ? 0 : 1;
}
