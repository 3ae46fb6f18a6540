// exit: 0
// stderr-clean
// stdout: trylock 0
// stdout: done
// stock
//
// A try-lock never waits, so it cannot be part of a deadlock: main holds a and
// try-locks b (which succeeds), a worker later takes b then a. The reverse order
// a => b was only ever tried, never waited for: no report. The run prints
// "trylock 0" and "done" and exits 0.
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
  pthread_mutex_lock(&b);
  pthread_mutex_lock(&a);
  pthread_mutex_unlock(&a);
  pthread_mutex_unlock(&b);
  return arg;
}

int main(void) {
  pthread_mutex_lock(&a);
  printf("trylock %d\n", pthread_mutex_trylock(&b));
  pthread_mutex_unlock(&b);
  pthread_mutex_unlock(&a);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
