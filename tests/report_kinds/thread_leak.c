// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: thread leak (pid=
// stderr:   Thread T1 (tid=
// stderr: , finished) created by main thread at:
// frame: start_worker @create
// frame: main @start
// summary: thread leak @create start_worker
// stock
//
// A thread that finished and was never joined nor detached is a thread leak,
// reported at exit with its creation stack: start_worker (the pthread_create
// line), then main. The run prints "done", reports the leak once and exits 66.
#include <stdio.h>
#include "exited.h"

static void *worker(void *arg) {
  note_exiting_thread();
  return arg;
}

static __attribute__((noinline)) void start_worker(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL); /* @create */
}

int main(void) {
  start_worker(); /* @start */
  wait_for_exits(1);
  printf("done\n");
  return 0;
}
