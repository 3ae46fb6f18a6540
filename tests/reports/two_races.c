/* Two distinct races, one after the other (for halt_on_error): `first` then `second`. */
#include <pthread.h>
#include <stdio.h>

int first, second;
int step;

static void *worker(void *arg) {
  first = 1; // @first_prev
  second = 1; // @second_prev
  __atomic_store_n(&step, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  while (!__atomic_load_n(&step, __ATOMIC_RELAXED))
    ;
  int a = first; // @first_cur
  fprintf(stderr, "main: between the races\n");
  int b = second; // @second_cur
  fprintf(stderr, "main: after both races\n");
  pthread_join(t, NULL);
  printf("%d\n", a + b);
  return 0;
}
