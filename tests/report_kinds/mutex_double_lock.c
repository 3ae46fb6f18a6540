// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: double lock of a mutex (pid=
// stderr:   Location is global 'm' of size 40 at 0x
// frame: worker @lock2
// frame: main @init
// summary: double lock of a mutex @lock2 worker
// stock
//
// main locks the mutex, then wipes it (memset: the real mutex is unlocked again
// behind the runtime's back); a worker's lock then succeeds while main still holds
// the mutex on record: a double lock, reported at the worker's lock. (A thread
// relocking its own non-recursive mutex would deadlock in the real lock, before
// any report, as under TSan.) The run prints "done" and exits 66.
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t m;

static void *worker(void *arg) {
  pthread_mutex_lock(&m); /* @lock2 */
  return arg;
}

int main(void) {
  pthread_mutex_init(&m, NULL); /* @init */
  pthread_mutex_lock(&m);
  memset(&m, 0, sizeof m);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
