// exit: 66
// stdout: errno kept
// stderr: WARNING: ThreadSanitizer: signal handler spoils errno
// stderr:   Signal 10 handler invoked at:
// stderr: #0 handler
// stderr: #1 main
// stderr: SUMMARY: ThreadSanitizer: signal handler spoils errno
//
// A handler that changes errno and returns is reported; the interrupted code's
// errno is still the kernel's view of it (unchanged by the handler). The run
// must report the spoiled errno, print "errno kept", and exit with 66.
#include <errno.h>
#include <signal.h>
#include <stdio.h>

static void handler(int sig) {
  (void)sig;
  errno = EACCES;
}

int main(void) {
  signal(SIGUSR1, handler);
  errno = 0;
  raise(SIGUSR1);
  printf(errno == 0 ? "errno kept\n" : "errno changed\n");
  return 0;
}
