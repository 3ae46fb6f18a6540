// exit: 0
// stdout: value 42
// stderr-clean
// stock
//
// The worker writes through a dup() of the pipe's write end; main reads the pipe's
// read end. A duplicate shares the pipe's synchronization: no race.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static int wfd;
static int value;

static void *worker(void *arg) {
  value = 42;
  write(wfd, "x", 1);
  return arg;
}

int main(void) {
  pipe(fds);
  wfd = dup(fds[1]);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  char c;
  read(fds[0], &c, 1);
  printf("value %d\n", value);
  pthread_join(t, NULL);
  close(wfd);
  return 0;
}
