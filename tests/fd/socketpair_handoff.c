// exit: 0
// stdout: value 42
// stderr-clean
// stock
//
// send() on one end of a socketpair happens before the recv() on the other end
// that returns the data: no race on the global published before the send.
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static int sv[2];
static int value;

static void *worker(void *arg) {
  value = 42;
  send(sv[0], "x", 1, 0);
  return arg;
}

int main(void) {
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  char c;
  recv(sv[1], &c, 1, 0);
  printf("value %d\n", value);
  pthread_join(t, NULL);
  return 0;
}
