// exit: 66
// reports: 1
// stdout: last worker done
// stderr: WARNING: ThreadSanitizer: thread leak (pid=
// stderr:   Thread T1 (tid=
// frame: main @create
// summary: thread leak @create main
//
// main creates a worker that finishes unjoined (a leak), starts a second one and
// calls pthread_exit; the second, the last thread, ends the process with exit(0)
// after it finished. T1 is reported, with its creation stack symbolized although
// the main thread is gone; T2, which runs the exit, is not. Exit 66. (Stock TSan
// hangs on this program.)
#include <stdio.h>
#include "exited.h"

static void *quick(void *arg) {
  note_exiting_thread();
  return arg;
}

static void *last(void *arg) {
  usleep(100000);
  printf("last worker done\n");
  fflush(stdout);
  return arg;
}

int main(void) {
  pthread_t t, u;
  pthread_create(&t, NULL, quick, NULL); /* @create */
  wait_for_exits(1);
  pthread_create(&u, NULL, last, NULL);
  pthread_exit(NULL);
}
