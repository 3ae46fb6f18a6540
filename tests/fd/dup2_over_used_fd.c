// exit: 0
// stdout: done
// stderr-clean
// stock
//
// A worker keeps writing to an fd while main dup2()s /dev/null over it (what
// daemons do to stdout): dup2 replacing an fd counts as a read of it, not a
// close, so this is no race (as under TSan).
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static atomic_int written;

static void *worker(void *arg) {
  write(fds[1], "x", 1);
  atomic_store_explicit(&written, 1, memory_order_relaxed);
  return arg;
}

int main(void) {
  pipe(fds);
  int devnull = open("/dev/null", O_WRONLY);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  while (!atomic_load_explicit(&written, memory_order_relaxed)) {
  }
  dup2(devnull, fds[1]);
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
