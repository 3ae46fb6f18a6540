// exit: 66
// stderr: WARNING: ThreadSanitizer: data race
// stderr: #0 handler
// stderr: main /
// stderr: SUMMARY: ThreadSanitizer: data race
//
// A handler's accesses are checked: the handler, run on the main thread by raise,
// writes a global that another thread wrote with nothing ordering the two. The
// run must report that data race (the handler on the current stack) and exit
// with 66.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static int shared;

static void handler(int sig) {
  (void)sig;
  shared = 2;
}

static void *writer(void *arg) {
  (void)arg;
  shared = 1;
  return NULL;
}

int main(void) {
  signal(SIGUSR1, handler);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  usleep(200000);
  raise(SIGUSR1);
  pthread_join(t, NULL);
  printf("shared = %d\n", shared);
  return 0;
}
