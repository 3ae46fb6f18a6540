// exit: 66
// reports: 1
// stdout: lock returned 22
// stderr: WARNING: ThreadSanitizer: use of an invalid mutex (e.g. uninitialized or destroyed) (pid=
// stderr:   Location is global 'm' of size 40 at 0x
// frame: main @lock
// summary: use of an invalid mutex (e.g. uninitialized or destroyed) @lock main
// stock
//
// Locking a destroyed mutex: glibc refuses with EINVAL (22), which the program
// prints, and the lock is reported where it was made. The run exits 66.
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m;

int main(void) {
  pthread_mutex_init(&m, NULL);
  pthread_mutex_destroy(&m);
  int r = pthread_mutex_lock(&m); /* @lock */
  printf("lock returned %d\n", r);
  return 0;
}
