// exit: 0
// stdout: child 101
// stdout: parent 11
// stderr-clean
// stock
// clang
//
// pthread_atfork handlers run around fork, as instrumented code touching
// memory: prepare before, then parent or child after. (They run while the
// runtime's locks are not held: taking those in the fork interceptor itself made
// the prepare handler's first access hang.)
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int counter;

static void prepare(void) { counter += 1; }
static void parent(void) { counter += 10; }
static void child(void) { counter += 100; }

int main(void) {
  pthread_atfork(prepare, parent, child);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    printf("child %d\n", counter);
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  printf("parent %d\n", counter);
  return 0;
}
