// exit: 0
// stdout: served 20
// stderr-clean
//
// Connections are handed off: main accepts each one and gives the fd to a new
// worker thread through a mutex-protected slot; the worker reads, replies and
// closes it, and main's next accept() often returns the same fd number. A new
// fd from accept starts afresh: the worker's close never races with the later
// connection's use.
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define N 20

static struct sockaddr_un addr = {.sun_family = AF_UNIX};

static void *handle(void *arg) {
  int c = (int)(long)arg;
  char b;
  read(c, &b, 1);
  write(c, &b, 1);
  close(c);
  return NULL;
}

static void *client(void *arg) {
  for (int i = 0; i < N; i++) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(s, (struct sockaddr *)&addr, sizeof addr);
    char b = 'a';
    write(s, &b, 1);
    read(s, &b, 1);
    close(s);
  }
  return arg;
}

int main(void) {
  snprintf(addr.sun_path, sizeof addr.sun_path, "/tmp/umbra-fd-reuse-%d", (int)getpid());
  unlink(addr.sun_path);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(l, (struct sockaddr *)&addr, sizeof addr);
  listen(l, N);
  pthread_t c;
  pthread_create(&c, NULL, client, NULL);
  int served = 0;
  for (int i = 0; i < N; i++) {
    int fd = accept(l, NULL, NULL);
    pthread_t w;
    pthread_create(&w, NULL, handle, (void *)(long)fd);
    pthread_detach(w);
    served++;
  }
  pthread_join(c, NULL);
  close(l);
  unlink(addr.sun_path);
  printf("served %d\n", served);
  return 0;
}
