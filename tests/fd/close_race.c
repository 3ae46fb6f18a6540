// exit: 66
// reports: 1
// stdout: done
// stderr: WARNING: ThreadSanitizer: data race (pid=
// stderr:   Write of size 8 at 0x
// stderr:   Previous read of size 8 at 0x
// stderr:   Location is file descriptor 4 created by main thread at:
// after: Location is file descriptor 4 created by main thread at: => main @pipe
// frame: main @close
// frame: worker @write
// summary: data race @close main
// clang
//
// A worker writes into a pipe; main closes the pipe's write end with no
// happens-before to that write (the relaxed flag orders the two in time only):
// the close races with the use, reported on the fd itself.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static atomic_int written;

static void *worker(void *arg) {
  write(fds[1], "x", 1); /* @write */
  atomic_store_explicit(&written, 1, memory_order_relaxed);
  return arg;
}

int main(void) {
  pipe(fds); /* @pipe */
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  while (!atomic_load_explicit(&written, memory_order_relaxed)) {
  }
  close(fds[1]); /* @close */
  pthread_join(t, NULL);
  printf("done\n");
  return 0;
}
