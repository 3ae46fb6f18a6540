// exit: 0
// stdout: done
// stderr-clean
// stock
//
// Detached threads are no leaks, however they were detached: created with a
// detached attribute, detached by their creator, or detaching themselves. All
// three finish before main returns; nothing is reported and the run exits 0.
#include <stdio.h>
#include "exited.h"

static void *worker(void *arg) {
  note_exiting_thread();
  return arg;
}

static void *self_detaching(void *arg) {
  pthread_detach(pthread_self());
  note_exiting_thread();
  return arg;
}

int main(void) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t a, b, c;
  pthread_create(&a, &attr, worker, NULL);
  pthread_create(&b, NULL, worker, NULL);
  pthread_detach(b);
  pthread_create(&c, NULL, self_detaching, NULL);
  wait_for_exits(3);
  printf("done\n");
  return 0;
}
