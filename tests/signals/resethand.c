// signal: 10
// stdout: handled once
// stderr-clean
//
// SA_RESETHAND: the first SIGUSR1 runs the handler and resets the action to
// SIG_DFL, which sigaction then reports; the second SIGUSR1 gets the default
// action. The run must print "handled once", nothing on stderr, and be killed by
// SIGUSR1 (signal 10).
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t calls;

static void handler(int sig) {
  (void)sig;
  calls++;
}

int main(void) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESETHAND;
  if (sigaction(SIGUSR1, &sa, NULL) != 0) return 2;
  raise(SIGUSR1);
  if (calls != 1) return 1;
  if (sigaction(SIGUSR1, NULL, &old) != 0 || old.sa_handler != SIG_DFL) return 3;
  printf("handled once\n");
  fflush(stdout);
  raise(SIGUSR1);
  printf("still alive after the second SIGUSR1\n");
  return 4;
}
