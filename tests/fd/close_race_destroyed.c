// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: data race (pid=
// stderr:   Location is file descriptor 3 destroyed by thread T1 at:
// after: Location is file descriptor 3 destroyed by thread T1 at: => worker @close1
// frame: worker @close2
// frame: main @use
//
// A worker closes an fd; main, ordered after that close in time only (relaxed
// flags), uses the closed fd (EBADF); the worker closes it again: the second close
// races with main's use, and the fd was last seen destroyed, by the worker.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static int fd;
static atomic_int step;

static void wait_for(int s) {
  while (atomic_load_explicit(&step, memory_order_relaxed) != s) {
  }
}

static void *worker(void *arg) {
  close(fd); /* @close1 */
  atomic_store_explicit(&step, 1, memory_order_relaxed);
  wait_for(2);
  close(fd); /* @close2 */
  return arg;
}

int main(void) {
  int fds[2];
  pipe(fds);
  fd = fds[0];
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  wait_for(1);
  char c;
  read(fd, &c, 1); /* @use */
  atomic_store_explicit(&step, 2, memory_order_relaxed);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
