// exit: 0
// stdout: child exited 0
// stdout: done
// stderr-clean
// stock
//
// A fork made while another thread runs: the child inherits the registry with a
// finished, not yet joined thread (T1) and a running one (T2), which it can never
// join; it reports no thread leaks when it exits (as TSan, which skips leak
// reports after a multi-threaded fork). The parent then joins both. Nothing is
// reported anywhere; the child exits 0, the parent prints "done" and exits 0.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "exited.h"

static int stop;

static void *quick(void *arg) {
  note_exiting_thread();
  return arg;
}

static void *spinning(void *arg) {
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
    usleep(1000);
  return arg;
}

int main(void) {
  pthread_t t1, t2;
  pthread_create(&t1, NULL, quick, NULL);
  pthread_create(&t2, NULL, spinning, NULL);
  wait_for_exits(1);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0)
    exit(0);
  int status = -1;
  waitpid(pid, &status, 0);
  printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  printf("done\n");
  return 0;
}
