// exit: 66
// reports: 1
// stdout: errno kept
// stderr: WARNING: ThreadSanitizer: signal handler spoils errno
// stderr:   Signal 10 handler invoked at:
// stderr: #0 handler
// stderr: main /
// stderr: SUMMARY: ThreadSanitizer: signal handler spoils errno
//
// A handler that changes errno and returns is reported, with the handler on top
// of the stack of the code it interrupted; that code's errno is unchanged. The
// signal comes from another thread while main waits in a loop. The run must
// report the spoiled errno once, print "errno kept", and exit with 66.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

static volatile sig_atomic_t done;
static pthread_t main_thread;
static int waiting;

static void handler(int sig) {
  (void)sig;
  errno = EACCES;
  done = 1;
}

static void *sender(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&waiting, __ATOMIC_ACQUIRE)) {
  }
  pthread_kill(main_thread, SIGUSR1);
  return NULL;
}

static __attribute__((noinline)) void wait_for_signal(void) {
  __atomic_store_n(&waiting, 1, __ATOMIC_RELEASE);
  while (!done) {
  }
}

int main(void) {
  signal(SIGUSR1, handler);
  main_thread = pthread_self();
  errno = 0;
  pthread_t t;
  pthread_create(&t, NULL, sender, NULL);
  wait_for_signal();
  int kept = errno == 0;
  pthread_join(t, NULL);
  printf(kept ? "errno kept\n" : "errno changed\n");
  return 0;
}
