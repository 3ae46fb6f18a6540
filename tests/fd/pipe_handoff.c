// exit: 0
// stdout: value 42
// stderr-clean
// stock
//
// A worker writes a global, then a byte into a pipe; main reads the byte and then
// the global. The write to the pipe happens before the read that returns it: no race.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static int value;

static void *worker(void *arg) {
  value = 42;
  write(fds[1], "x", 1);
  return arg;
}

int main(void) {
  pipe(fds);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  char c;
  read(fds[0], &c, 1);
  printf("value %d\n", value);
  pthread_join(t, NULL);
  return 0;
}
