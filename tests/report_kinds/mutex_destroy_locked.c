// exit: 66
// reports: 1
// stdout: destroy returned 16
// stderr: WARNING: ThreadSanitizer: destroy of a locked mutex (pid=
// stderr:   and:
// stderr:   Location is stack of main thread.
// stderr:   Mutex M0 (0x
// frame: main @destroy
// frame: main @lock
// frame: main @init
// summary: destroy of a locked mutex @destroy main
// stock
//
// Destroying a mutex that is still locked: the destroy's stack, "and:" the stack
// of the lock, the location (main's stack) and where the mutex was created. glibc
// refuses with EBUSY (16), which the program prints; the run exits 66.
#include <pthread.h>
#include <stdio.h>

int main(void) {
  pthread_mutex_t m;
  pthread_mutex_init(&m, NULL); /* @init */
  pthread_mutex_lock(&m); /* @lock */
  int r = pthread_mutex_destroy(&m); /* @destroy */
  printf("destroy returned %d\n", r);
  return 0;
}
