// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: unlock of an unlocked mutex (or by a wrong thread) (pid=
// stderr:   Location is global 'm' of size 40 at 0x
// frame: worker @unlock
// frame: main @lock
// summary: unlock of an unlocked mutex (or by a wrong thread) @unlock worker
// stock
//
// A thread unlocks a mutex that main holds: reported at the worker's unlock, once;
// the run prints "done" and exits 66.
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
  pthread_mutex_unlock(&m); /* @unlock */
  return arg;
}

int main(void) {
  pthread_mutex_lock(&m); /* @lock */
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
