// exit: 0
// stdout: forks 200 children ok 200
// stderr-clean
//
// Main forks 200 times while four threads keep the runtime busy (heap, mutexes,
// new thread-local history, shadow of shared data): each child allocates, writes
// and exits. No child may inherit a runtime lock another thread held at the
// fork (it would hang there), and the parent goes on.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKS 200

static atomic_int stop;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long shared[64];

static void *busy(void *arg) {
  long id = (long)arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    char *p = malloc(64 + id);
    memset(p, (int)id, 64);
    pthread_mutex_lock(&m);
    shared[id] += p[0];
    pthread_mutex_unlock(&m);
    free(p);
  }
  return NULL;
}

int main(void) {
  pthread_t t[4];
  for (long i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, busy, (void *)i);
  int ok = 0;
  for (int i = 0; i < FORKS; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      char *p = malloc(100);
      memset(p, 1, 100);
      free(p);
      _exit(7);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 7)
      ok++;
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  printf("forks %d children ok %d\n", FORKS, ok);
  return 0;
}
