// exit: 0
// stdout: worker done
// stderr-clean
//
// main calls pthread_exit; the worker, the last thread, returns, and glibc ends
// the process with exit(0) from the worker after its TLS destructors (so after
// the runtime has marked it finished). The thread running the exit is no leak:
// nothing is reported, exit 0. (Stock TSan hangs on this program.)
#include <stdio.h>
#include <unistd.h>
#include <pthread.h>

static void *worker(void *arg) {
  usleep(100000);
  printf("worker done\n");
  fflush(stdout);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_exit(NULL);
}
