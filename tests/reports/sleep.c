/* A sleep between the accesses is not synchronization, but the report says
 * "As if synchronized via sleep" with the sleep's stack.
 * argv[1] = during: main sleeps while T1 writes, then reads (the usual mistake).
 * TSan snapshots the clocks when the sleep returns, so this write counts.
 * argv[1] = before: main writes; T1 (after seeing a relaxed flag) sleeps in nap(),
 * then reads (compiler-rt's sleep_sync.cpp). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

long slept_on;
int written;

static void *writer(void *arg) {
  /* Write while main is asleep, after some synchronization of this thread's own
   * (which advances its clock past anything seen before main went to sleep). */
  usleep(10 * 1000);
  pthread_mutex_t own = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&own);
  pthread_mutex_unlock(&own);
  slept_on = 42; // @during_prev
  return arg;
}

__attribute__((noinline)) static void nap(void) {
  usleep(20 * 1000); // @before_sleep
  __asm__ volatile("" ::: "memory");
}

static void *late_reader(void *arg) {
  while (!__atomic_load_n(&written, __ATOMIC_RELAXED))
    ;
  nap(); // @before_nap_call
  long seen = slept_on; // @before_cur
  return (void *)seen;
}

int main(int argc, char **argv) {
  const char *which = argc > 1 ? argv[1] : "";
  pthread_t t;
  long seen = 0;
  if (strcmp(which, "during") == 0) {
    pthread_create(&t, NULL, writer, NULL);
    usleep(100 * 1000); // @during_sleep
    seen = slept_on; // @during_cur
    pthread_join(t, NULL);
  } else if (strcmp(which, "before") == 0) {
    pthread_create(&t, NULL, late_reader, NULL);
    slept_on = 43; // @before_prev
    __atomic_store_n(&written, 1, __ATOMIC_RELAXED);
    void *r;
    pthread_join(t, &r);
    seen = (long)r;
  } else {
    fprintf(stderr, "usage: sleep during|before\n");
    return 2;
  }
  printf("%ld\n", seen);
  return 0;
}
