// exit: 0
// stdout: cancelled 1 cleanup 1
// stderr-clean
// stock
// clang
//
// A thread blocked in pthread_cond_wait is cancelled: glibc re-locks the mutex and
// unwinds through the wait into the thread's cleanup handler, which unlocks it.
// The runtime must see the re-lock (the interceptor's code after the real wait
// never runs), or the handler's unlock looks like an unlock of an unlocked mutex.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int cleanups, ready;

static void cleanup(void *arg) {
  cleanups++;
  pthread_mutex_unlock(arg);
}

static void *waiter(void *arg) {
  pthread_mutex_lock(&m);
  pthread_cleanup_push(cleanup, &m);
  ready = 1;
  for (;;)
    pthread_cond_wait(&c, &m);
  pthread_cleanup_pop(1);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, waiter, NULL);
  for (;;) {
    pthread_mutex_lock(&m);
    int r = ready;
    pthread_mutex_unlock(&m);
    if (r)
      break;
    usleep(1000);
  }
  pthread_cancel(t);
  void *ret;
  pthread_join(t, &ret);
  pthread_mutex_lock(&m);
  pthread_mutex_unlock(&m);
  printf("cancelled %d cleanup %d\n", ret == PTHREAD_CANCELED, cleanups);
  return 0;
}
