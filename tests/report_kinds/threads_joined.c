// exit: 0
// stdout: done
// stderr-clean
// stock
//
// Threads that are joined (pthread_join, pthread_tryjoin_np after they ended,
// pthread_timedjoin_np) are no leaks: nothing is reported and the run exits 0.
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>
#include "exited.h"

static void *worker(void *arg) {
  note_exiting_thread();
  return arg;
}

int main(void) {
  pthread_t a, b, c;
  pthread_create(&a, NULL, worker, NULL);
  pthread_create(&b, NULL, worker, NULL);
  pthread_create(&c, NULL, worker, NULL);
  pthread_join(a, NULL);
  wait_for_exits(3);
  while (pthread_tryjoin_np(b, NULL) != 0)
    usleep(1000);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 10;
  pthread_timedjoin_np(c, NULL, &ts);
  printf("done\n");
  return 0;
}
