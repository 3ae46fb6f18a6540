// exit: 0
// stdout: value 42
// stdout: reply 43
// stderr-clean
// stock
//
// A server thread accepts on a Unix socket; the client writes a global and then
// connects. connect() happens before the accept() that returns the connection,
// so the server reads the global without a race; then data sent over the
// connection carries the server's write back to the client.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int listener;
static int value, reply;

static void *server(void *arg) {
  int c = accept(listener, NULL, NULL);
  printf("value %d\n", value);
  reply = 43;
  write(c, "y", 1);
  close(c);
  return arg;
}

int main(void) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "/tmp/umbra-fd-test-%d", (int)getpid());
  unlink(addr.sun_path);
  listener = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(listener, (struct sockaddr *)&addr, sizeof addr);
  listen(listener, 1);
  pthread_t t;
  pthread_create(&t, NULL, server, NULL);
  value = 42;
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  connect(s, (struct sockaddr *)&addr, sizeof addr);
  char c;
  read(s, &c, 1);
  printf("reply %d\n", reply);
  pthread_join(t, NULL);
  close(s);
  close(listener);
  unlink(addr.sun_path);
  return 0;
}
