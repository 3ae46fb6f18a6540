// exit: 0
// stdout: child exit 0
// stdout: done
// stderr-clean
//
// What openjdk does: a vfork child closes every fd but the standard ones before
// exec (here: before _exit), while a parent thread keeps using one of them. A
// vfork child shares the parent's memory, so the runtime turns vfork into fork
// (as TSan does): the child's closes never reach the parent's fd model.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int fds[2];
static atomic_int stop;

static void *writer(void *arg) {
  char c = 'x';
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    write(fds[1], &c, 1);
    read(fds[0], &c, 1);
  }
  return arg;
}

int main(void) {
  pipe(fds);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  usleep(10000);
  pid_t pid = vfork();
  if (pid == 0) {
    for (int fd = 3; fd < 64; fd++)
      close(fd);
    _exit(0);
  }
  int status = 1;
  waitpid(pid, &status, 0);
  printf("child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  usleep(10000);
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
