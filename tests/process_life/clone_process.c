// exit: 0
// stdout: clones 50 ok 50
// stderr-clean
//
// clone() without CLONE_VM, called directly while another thread keeps the
// runtime busy: the child is a process with a copy of memory, runs instrumented
// code (heap, writes) and returns its status; treated as a fork, it never
// inherits a runtime lock held by the busy thread.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[256 * 1024] __attribute__((aligned(16)));
static atomic_int stop;
static int child_data;

static int child(void *arg) {
  char *p = malloc(128);
  memset(p, 3, 128);
  child_data = p[5];
  free(p);
  return *(int *)arg + child_data;
}

static void *busy(void *arg) {
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    void *p = malloc(32);
    free(p);
  }
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, busy, NULL);
  int ok = 0, code = 4;
  for (int i = 0; i < 50; i++) {
    pid_t pid = clone(child, stack + sizeof stack, SIGCHLD, &code);
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
        WEXITSTATUS(status) == 7)
      ok++;
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  printf("clones 50 ok %d\n", ok);
  return 0;
}
