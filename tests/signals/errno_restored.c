// exit: 0
// stdout: handled
// stderr-clean
//
// A handler that calls a failing function but saves and restores errno does not
// spoil it: nothing is reported. The run must print "handled" and exit with 0.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t calls;

static void handler(int sig) {
  (void)sig;
  int saved = errno;
  close(-1);
  errno = saved;
  calls++;
}

int main(void) {
  signal(SIGUSR1, handler);
  raise(SIGUSR1);
  printf(calls == 1 ? "handled\n" : "not handled\n");
  return 0;
}
