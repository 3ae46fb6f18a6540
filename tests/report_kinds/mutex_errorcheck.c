// exit: 0
// stdout: relock returned 35
// stdout: done
// stderr-clean
// stock
//
// An error-checking mutex relocked by its owner: the real lock refuses with
// EDEADLK (35) and nothing is reported; then a proper unlock and destroy. Exit 0.
#include <pthread.h>
#include <stdio.h>

int main(void) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_t m;
  pthread_mutex_init(&m, &a);
  pthread_mutex_lock(&m);
  int r = pthread_mutex_lock(&m);
  printf("relock returned %d\n", r);
  pthread_mutex_unlock(&m);
  pthread_mutex_destroy(&m);
  printf("done\n");
  return 0;
}
