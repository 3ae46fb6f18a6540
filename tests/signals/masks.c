// exit: 0
// stdout: blocked: pending, delivered after unblock; in handler: SIGUSR2 and SIGUSR1 blocked; after: neither
// stderr-clean
//
// The signal mask as the kernel keeps it: a signal blocked with sigprocmask stays
// pending (its handler does not run) until it is unblocked, then runs; inside a
// handler the action's sa_mask and the signal itself are blocked; after the
// handler returns the thread's mask is back as it was.
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t usr1_calls;
static volatile int saw_usr2_blocked, saw_usr1_blocked;

static void on_usr1(int sig) {
  (void)sig;
  usr1_calls++;
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  saw_usr2_blocked = sigismember(&now, SIGUSR2);
  saw_usr1_blocked = sigismember(&now, SIGUSR1);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  sigaction(SIGUSR1, &sa, NULL);

  sigset_t usr1, pending, after;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  raise(SIGUSR1);
  sigpending(&pending);
  int was_pending = sigismember(&pending, SIGUSR1) && usr1_calls == 0;
  sigprocmask(SIG_UNBLOCK, &usr1, NULL);
  printf("blocked: %s, %s; ", was_pending ? "pending" : "NOT pending",
         usr1_calls == 1 ? "delivered after unblock" : "NOT delivered");
  printf("in handler: %s and %s; ", saw_usr2_blocked ? "SIGUSR2" : "NOT SIGUSR2",
         saw_usr1_blocked ? "SIGUSR1 blocked" : "NOT SIGUSR1");
  sigprocmask(SIG_BLOCK, NULL, &after);
  printf("after: %s\n", !sigismember(&after, SIGUSR1) && !sigismember(&after, SIGUSR2) ? "neither" : "STILL BLOCKED");
  return 0;
}
