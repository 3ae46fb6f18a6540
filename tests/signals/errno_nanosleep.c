// exit: 0
// stdout: nanosleep interrupted
// stderr-clean
//
// A signal interrupts nanosleep; the handler does not touch errno, so the EINTR
// the kernel gives nanosleep afterwards is no spoiled errno (stock TSan reports
// one here). The run must print "nanosleep interrupted", report nothing, and
// exit with 0.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t calls;
static int done;
static pthread_t main_thread;

static void handler(int sig) {
  (void)sig;
  calls++;
}

static void *kicker(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
    usleep(20000);
    pthread_kill(main_thread, SIGUSR1);
  }
  return NULL;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler; /* no SA_RESTART: nanosleep fails with EINTR */
  sigaction(SIGUSR1, &sa, NULL);
  main_thread = pthread_self();
  pthread_t t;
  pthread_create(&t, NULL, kicker, NULL);
  int interrupted = 0;
  for (int i = 0; i < 50 && !interrupted; i++) {
    struct timespec ts = {0, 200000000};
    if (nanosleep(&ts, NULL) == -1 && errno == EINTR) interrupted = 1;
  }
  __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
  pthread_join(t, NULL);
  printf(interrupted ? "nanosleep interrupted\n" : "nanosleep never interrupted\n");
  return interrupted ? 0 : 1;
}
