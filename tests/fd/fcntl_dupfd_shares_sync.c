// exit: 0
// stdout: value 42
// stderr-clean
//
// As dup_shares_sync, with fcntl(F_DUPFD_CLOEXEC) making the duplicate (stock
// TSan's fd_fcntl_dupfd_cloexec_norace; gcc 12's libtsan misses this edge).
#define _GNU_SOURCE
#include <fcntl.h>
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
  pipe2(fds, O_CLOEXEC);
  wfd = fcntl(fds[1], F_DUPFD_CLOEXEC, 0);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  char c;
  read(fds[0], &c, 1);
  printf("value %d\n", value);
  pthread_join(t, NULL);
  return 0;
}
