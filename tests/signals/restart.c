// exit: 0
// stdout: with SA_RESTART: read 1 byte; without: EINTR
// stderr-clean
//
// SA_RESTART as the kernel gives it: a read blocked on an empty pipe, interrupted
// by a handled SIGALRM, resumes when the action has SA_RESTART (and returns the
// byte written later), and fails with EINTR when it has not.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fds[2];

static void handler(int sig) { (void)sig; }

static void *writer(void *arg) {
  (void)arg;
  usleep(300000); /* after the alarm */
  if (write(fds[1], "x", 1) != 1) return (void *)1;
  return NULL;
}

static ssize_t interrupted_read(int flags, int *err) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigaction(SIGALRM, &sa, NULL);
  if (pipe(fds) != 0) return -2;
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  ualarm(100000, 0);
  char c;
  ssize_t n = read(fds[0], &c, 1);
  *err = errno;
  pthread_join(t, NULL);
  close(fds[0]);
  close(fds[1]);
  return n;
}

int main(void) {
  int err;
  ssize_t n = interrupted_read(SA_RESTART, &err);
  printf("with SA_RESTART: read %zd byte; ", n);
  n = interrupted_read(0, &err);
  printf("without: %s\n", n == -1 && err == EINTR ? "EINTR" : "no EINTR");
  return 0;
}
