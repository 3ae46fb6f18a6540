// exit: 0
// stdout: previous actions ok
// stderr-clean
//
// sigaction and signal return the previous action as the program set it
// (handler, flags, mask), never the runtime's own handler. The run must print
// "previous actions ok", nothing on stderr, and exit with 0.
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void first(int sig, siginfo_t *info, void *uctx) { (void)sig, (void)info, (void)uctx; }
static void second(int sig) { (void)sig; }

int main(void) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = first;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  if (sigaction(SIGUSR1, &sa, &old) != 0 || old.sa_handler != SIG_DFL) return 1;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = second;
  if (sigaction(SIGUSR1, &sa, &old) != 0) return 2;
  if (old.sa_sigaction != first || !(old.sa_flags & SA_SIGINFO) || !(old.sa_flags & SA_RESTART) ||
      !sigismember(&old.sa_mask, SIGUSR2) || sigismember(&old.sa_mask, SIGINT))
    return 3;
  if (sigaction(SIGUSR1, NULL, &old) != 0 || old.sa_handler != second) return 4;
  if (signal(SIGUSR1, SIG_IGN) != second) return 5;
  if (signal(SIGUSR1, SIG_DFL) != SIG_IGN) return 6;
  if (signal(SIGUSR1, second) != SIG_DFL) return 7;
  if (sigaction(SIGUSR1, NULL, &old) != 0 || old.sa_handler != second || !(old.sa_flags & SA_RESTART)) return 8;
  printf("previous actions ok\n");
  return 0;
}
