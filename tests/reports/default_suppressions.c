/* A race suppressed by the program's own __tsan_default_suppressions. */
#include <pthread.h>
#include <stdio.h>

const char *__tsan_default_suppressions(void) {
  return "# built into the program\nrace:suppressed_worker\n";
}

int value;
int done;

static void *suppressed_worker(void *arg) {
  value = 1; // @prev
  __atomic_store_n(&done, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, suppressed_worker, NULL);
  while (!__atomic_load_n(&done, __ATOMIC_RELAXED))
    ;
  int v = value; // @cur
  pthread_join(t, NULL);
  printf("%d\n", v);
  return 0;
}
