// exit: 0
// stdout: value 42 got x
// stderr-clean
//
// A worker writes a global and a byte into a pipe, then passes the pipe's read
// end to main over a socketpair (SCM_RIGHTS). Main reads the global and the
// byte through the fd it received: no race.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int sv[2];
static int value;

static void *worker(void *arg) {
  int p[2];
  pipe(p);
  value = 42;
  write(p[1], "x", 1);
  char byte = 0;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &p[0], sizeof(int));
  sendmsg(sv[0], &msg, 0);
  close(p[0]);
  close(p[1]);
  return arg;
}

int main(void) {
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
  recvmsg(sv[1], &msg, 0);
  int fd;
  memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
  char c;
  read(fd, &c, 1);
  printf("value %d got %c\n", value, c);
  close(fd);
  pthread_join(t, NULL);
  return 0;
}
