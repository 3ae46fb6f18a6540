// exit: 0
// stdout: done
// stderr-clean
// stock
//
// A recursive mutex locked twice (lock, then trylock) by its owner, unlocked twice
// and destroyed unlocked; then another thread takes it. Nothing is reported, exit 0.
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m;
static int counter;

static void *worker(void *arg) {
  pthread_mutex_lock(&m);
  pthread_mutex_lock(&m);
  counter++;
  pthread_mutex_unlock(&m);
  pthread_mutex_unlock(&m);
  return arg;
}

int main(void) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&m, &a);
  pthread_mutex_lock(&m);
  pthread_mutex_trylock(&m);
  counter++;
  pthread_mutex_unlock(&m);
  pthread_mutex_unlock(&m);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  pthread_mutex_destroy(&m);
  printf(counter == 2 ? "done\n" : "wrong count\n");
  return 0;
}
