// exit: 0
// stdout: handler saw 42
// stderr-clean
//
// pthread_kill orders the sender's earlier writes before the handler it starts:
// the main thread writes a global, then signals a thread whose handler reads it.
// The run must print "handler saw 42", report nothing, and exit with 0.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static int shared;
static int seen;
static volatile sig_atomic_t got;
static int ready;

static void handler(int sig) {
  (void)sig;
  seen = shared;
  got = 1;
}

static void *waiter(void *arg) {
  (void)arg;
  __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
  while (!got) usleep(100);
  return NULL;
}

int main(void) {
  signal(SIGUSR1, handler);
  pthread_t t;
  pthread_create(&t, NULL, waiter, NULL);
  while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) usleep(100);
  shared = 42;
  pthread_kill(t, SIGUSR1);
  pthread_join(t, NULL);
  printf("handler saw %d\n", seen);
  return seen == 42 ? 0 : 1;
}
