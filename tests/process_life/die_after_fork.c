// exit: 0
// stdout: child exit 66
// stderr: ThreadSanitizer: starting new threads after multi-threaded fork is not supported. Dying (set die_after_fork=0 to override)
// stock
//
// The child of a multi-threaded process starts a thread: TSan's die_after_fork
// (on by default) stops it with exit code 66 and one line.
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void *sleeper(void *arg) {
  pthread_mutex_lock(&m);
  pthread_mutex_unlock(&m);
  return arg;
}

static void *nothing(void *arg) { return arg; }

int main(void) {
  pthread_mutex_lock(&m);
  pthread_t t;
  pthread_create(&t, NULL, sleeper, NULL);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    pthread_t c;
    pthread_create(&c, NULL, nothing, NULL);
    pthread_join(c, NULL);
    printf("child thread ran\n");
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  printf("child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  pthread_mutex_unlock(&m);
  pthread_join(t, NULL);
  return 0;
}
