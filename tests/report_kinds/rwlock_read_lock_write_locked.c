// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: read lock of a write locked mutex (pid=
// stderr:   Location is global 'l' of size 56 at 0x
// frame: worker @rdlock
// frame: main @init
// summary: read lock of a write locked mutex @rdlock worker
// stock
//
// main write-locks the rwlock, then wipes it (memset: really unlocked, still
// write-held on record); a worker's read lock succeeds and is reported. The run
// prints "done" and exits 66.
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_rwlock_t l;

static void *worker(void *arg) {
  pthread_rwlock_rdlock(&l); /* @rdlock */
  return arg;
}

int main(void) {
  pthread_rwlock_init(&l, NULL); /* @init */
  pthread_rwlock_wrlock(&l);
  memset(&l, 0, sizeof l);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
