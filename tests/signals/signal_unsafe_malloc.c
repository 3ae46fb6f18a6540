// exit: 66
// reports: 2
// stderr: WARNING: ThreadSanitizer: signal-unsafe call inside of a signal
// stderr: #0 handler
// stderr: main /
// stderr: SUMMARY: ThreadSanitizer: signal-unsafe call inside of a signal
//
// A handler of an asynchronous signal calls malloc and free, which are not
// async-signal-safe. The run must report each of the two calls (stack from the
// handler down to main), print "handled" and exit with 66.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static volatile sig_atomic_t calls;

static char *volatile block;

static void handler(int sig) {
  block = malloc(64);
  block[0] = (char)sig;
  free(block);
  calls++;
}

int main(void) {
  signal(SIGUSR1, handler);
  raise(SIGUSR1);
  printf(calls == 1 ? "handled\n" : "not handled\n");
  return 0;
}
