/* A race in a program that sets its own defaults through __tsan_default_options. */
#include <pthread.h>
#include <stdio.h>

const char *__tsan_default_options(void) { return "exitcode=9"; }

int value;
int done;

static void *worker(void *arg) {
  value = 1; // @prev
  __atomic_store_n(&done, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  while (!__atomic_load_n(&done, __ATOMIC_RELAXED))
    ;
  int v = value; // @cur
  pthread_join(t, NULL);
  printf("%d\n", v);
  return 0;
}
