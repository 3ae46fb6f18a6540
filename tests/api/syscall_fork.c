/* A fork made by a raw syscall between the fork hooks leaves the child a usable
 * runtime while another thread allocates all the time (its allocator and
 * runtime locks are not held by a thread the child does not have).
 * expect: no report, stdout "child ok\nparent ok" (the child's line first: the
 * parent waits for it), exit code 0. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void __sanitizer_syscall_pre_impl_fork(void);
void __sanitizer_syscall_post_impl_fork(long res);

static int stop;

static void *allocator(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
    free(malloc(64));
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, allocator, NULL);
  for (int i = 0; i < 20; i++) {
    __sanitizer_syscall_pre_impl_fork();
    long pid = syscall(SYS_clone, SIGCHLD, 0);
    __sanitizer_syscall_post_impl_fork(pid);
    if (pid == 0) {
      char *p = malloc(32);
      free(p);
      if (i == 19) {
        printf("child ok\n");
        fflush(stdout);
      }
      _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  pthread_join(t, NULL);
  printf("parent ok\n");
  return 0;
}
