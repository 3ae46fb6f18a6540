// exit: 0
// stdout: sigwait got SIGUSR1, payload 42
// reports: 0
// stderr-clean
//
// sigwait: a thread that waits for a blocked SIGUSR1 with sigwait receives it
// without any handler running, and the sender's pthread_kill happens before the
// wait returns, so the payload written before the kill is read without a race.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static int payload;
static volatile sig_atomic_t handler_ran;

static void handler(int sig) { (void)sig; handler_ran = 1; }

static void *waiter(void *arg) {
  sigset_t *set = arg;
  int sig = 0;
  if (sigwait(set, &sig) != 0) return NULL;
  printf("sigwait got %s, payload %d\n", sig == SIGUSR1 && !handler_ran ? "SIGUSR1" : "something else", payload);
  return NULL;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigaction(SIGUSR1, &sa, NULL);
  static sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by the waiter */
  pthread_t t;
  pthread_create(&t, NULL, waiter, &set);
  payload = 42;
  pthread_kill(t, SIGUSR1);
  pthread_join(t, NULL);
  return 0;
}
