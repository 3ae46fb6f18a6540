// exit: 0
// stdout: siginfo ok
// stderr-clean
//
// An SA_SIGINFO handler gets its three arguments (signal number, the siginfo of
// sigqueue with its value, a ucontext) and runs with the mask its sigaction
// asked for: its own signal and sa_mask's SIGUSR2 blocked. The run must print
// "siginfo ok", nothing on stderr, and exit with 0.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t calls, good;

static void handler(int sig, siginfo_t *info, void *uctx) {
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  calls++;
  if (sig == SIGUSR1 && info != NULL && info->si_signo == SIGUSR1 && info->si_code == SI_QUEUE &&
      info->si_value.sival_int == 1234 && info->si_pid == getpid() && uctx != NULL &&
      sigismember(&now, SIGUSR1) && sigismember(&now, SIGUSR2))
    good++;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  if (sigaction(SIGUSR1, &sa, NULL) != 0) return 2;
  union sigval v;
  v.sival_int = 1234;
  sigqueue(getpid(), SIGUSR1, v);
  for (int i = 0; i < 1000 && calls == 0; i++) usleep(1000);
  sigset_t after;
  sigprocmask(SIG_BLOCK, NULL, &after);
  if (calls != 1 || good != 1 || sigismember(&after, SIGUSR1) || sigismember(&after, SIGUSR2)) {
    printf("calls %d, good %d\n", (int)calls, (int)good);
    return 1;
  }
  printf("siginfo ok\n");
  return 0;
}
