// exit: 66
// reports: 1
// stdout: unlock returned 0
// stderr: WARNING: ThreadSanitizer: unlock of an unlocked mutex (or by a wrong thread) (pid=
// stderr:   Location is global 'm' of size 40 at 0x
// stderr:   Mutex M0 (0x
// frame: main @unlock2
// frame: main @lock
// summary: unlock of an unlocked mutex (or by a wrong thread) @unlock2 main
// stock
//
// Unlocking a default mutex twice: the second unlock is reported (a statically
// initialized mutex is "created" where it was first locked). glibc's unlock of a
// normal mutex does not check and returns 0; the run exits 66.
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

int main(void) {
  pthread_mutex_lock(&m); /* @lock */
  pthread_mutex_unlock(&m);
  int r = pthread_mutex_unlock(&m); /* @unlock2 */
  printf("unlock returned %d\n", r);
  return 0;
}
