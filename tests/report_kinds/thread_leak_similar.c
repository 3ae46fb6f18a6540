// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: thread leak (pid=
// stderr:   Thread T1 (tid=
// stderr:   And 2 more similar thread leaks.
// frame: main @create
// summary: thread leak @create main
// stock
//
// Three threads created at the same place and leaked are one report, naming the
// first and counting the other two. The run prints "done" and exits 66.
#include <stdio.h>
#include "exited.h"

static void *worker(void *arg) {
  note_exiting_thread();
  return arg;
}

int main(void) {
  pthread_t t[3];
  for (int i = 0; i < 3; i++)
    pthread_create(&t[i], NULL, worker, NULL); /* @create */
  wait_for_exits(3);
  printf("done\n");
  return 0;
}
