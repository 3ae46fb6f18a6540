// umbra: clean
/* send() on one end of a socketpair happens before the recv() on the other end:
 * request/response where each side fills a shared buffer before sending. */
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int sv[2];
long buffer[16];

static void *server(void *arg) {
  char token;
  if (recv(sv[1], &token, 1, 0) != 1)
    return NULL;
  for (int i = 0; i < 16; i++)
    buffer[i] *= 2;
  if (send(sv[1], &token, 1, 0) != 1)
    return NULL;
  return arg;
}

int main(void) {
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return 2;
  pthread_t t;
  pthread_create(&t, NULL, server, NULL);
  for (int i = 0; i < 16; i++)
    buffer[i] = i;
  char token = 'q';
  if (send(sv[0], &token, 1, 0) != 1)
    return 3;
  if (recv(sv[0], &token, 1, 0) != 1)
    return 4;
  long sum = 0;
  for (int i = 0; i < 16; i++)
    sum += buffer[i];
  pthread_join(t, NULL);
  close(sv[0]);
  close(sv[1]);
  printf("%ld\n", sum);
  return sum == 240 ? 0 : 1;
}
