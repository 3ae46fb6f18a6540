// exit: 0
// stdout: value 42
// stderr-clean
// clang
//
// A pipe's read end is in an epoll set; the worker writes a global, then the pipe.
// epoll_wait() reporting the pipe readable happens after that write, so main may
// read the global without ever reading the pipe (the write released into the
// epoll fd, as stock TSan's FdPollAdd models).
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

static int fds[2];
static int value;

static void *worker(void *arg) {
  value = 42;
  write(fds[1], "x", 1);
  return arg;
}

int main(void) {
  pipe(fds);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[0]};
  epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  struct epoll_event got;
  while (epoll_wait(ep, &got, 1, -1) != 1) {
  }
  printf("value %d\n", value);
  pthread_join(t, NULL);
  close(ep);
  return 0;
}
