// exit: 66
// stdout: done
// rule: data-race
// site: worker @worker
// site: main @main
//
// One data race: a worker thread and main both write `counter` with nothing
// ordering the two writes. Which write comes second, and so is the report's
// "current" access, is up to the scheduler; the SARIF result names both lines
// either way, and its fingerprint is the same in every run.
#include <pthread.h>
#include <stdio.h>

int counter;

static void *worker(void *arg) {
  counter = 1; /* @worker */
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  counter = 2; /* @main */
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
