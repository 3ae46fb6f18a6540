/* One race per kind of memory, chosen by argv[1]: heap, stack, tls, global.
 * In each, thread T1 writes first (@X_prev) and main then reads (@X_cur), ordered
 * by relaxed flags only. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long shared_counter;
__thread int tls_value;

int *volatile target;
int *tls_pointer; /* published with relaxed atomics: not itself racy */
int flag;
int release_worker;

static void wait_for(int *f) {
  while (!__atomic_load_n(f, __ATOMIC_RELAXED))
    ;
}

static void signal_flag(int *f) { __atomic_store_n(f, 1, __ATOMIC_RELAXED); }

static void *heap_worker(void *arg) {
  target[2] = 7; // @heap_prev
  signal_flag(&flag);
  return arg;
}

static void *stack_worker(void *arg) {
  *target = 7; // @stack_prev
  signal_flag(&flag);
  return arg;
}

static void *tls_worker(void *arg) {
  tls_value = 7; // @tls_prev
  __atomic_store_n(&tls_pointer, &tls_value, __ATOMIC_RELAXED);
  signal_flag(&flag);
  /* Stay alive (so the TLS block stays valid) until main is done with it. */
  wait_for(&release_worker);
  return arg;
}

static void *global_worker(void *arg) {
  shared_counter = 7; // @global_prev
  signal_flag(&flag);
  return arg;
}

int main(int argc, char **argv) {
  const char *which = argc > 1 ? argv[1] : "";
  pthread_t t;
  long result = 0;
  if (strcmp(which, "heap") == 0) {
    target = malloc(10 * sizeof(int)); // @alloc
    pthread_create(&t, NULL, heap_worker, NULL);
    wait_for(&flag);
    result = target[2]; // @heap_cur
    pthread_join(t, NULL);
    free(target);
  } else if (strcmp(which, "stack") == 0) {
    int local = 0;
    target = &local;
    pthread_create(&t, NULL, stack_worker, NULL);
    wait_for(&flag);
    result = local; // @stack_cur
    pthread_join(t, NULL);
  } else if (strcmp(which, "tls") == 0) {
    pthread_create(&t, NULL, tls_worker, NULL);
    wait_for(&flag);
    int *p = __atomic_load_n(&tls_pointer, __ATOMIC_RELAXED);
    result = *p; // @tls_cur
    signal_flag(&release_worker);
    pthread_join(t, NULL);
  } else if (strcmp(which, "global") == 0) {
    pthread_create(&t, NULL, global_worker, NULL);
    wait_for(&flag);
    result = shared_counter; // @global_cur
    pthread_join(t, NULL);
  } else {
    fprintf(stderr, "usage: locations heap|stack|tls|global\n");
    return 2;
  }
  printf("%ld\n", result);
  return 0;
}
