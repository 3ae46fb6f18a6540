// exit: 66
// reports: 1
// stdout: unlock returned 0
// stderr: WARNING: ThreadSanitizer: unlock of an unlocked mutex (or by a wrong thread) (pid=
// stderr:   Location is global 'l' of size 56 at 0x
// frame: worker @unlock
// frame: main @wrlock
// summary: unlock of an unlocked mutex (or by a wrong thread) @unlock worker
// stock
//
// A thread unlocks a rwlock that main holds for writing: reported at the worker's
// unlock (glibc takes it for a read unlock and returns 0). Exit 66.
#include <pthread.h>
#include <stdio.h>

static pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;

static void *worker(void *arg) {
  int r = pthread_rwlock_unlock(&l); /* @unlock */
  printf("unlock returned %d\n", r);
  return arg;
}

int main(void) {
  pthread_rwlock_wrlock(&l); /* @wrlock */
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  return 0;
}
