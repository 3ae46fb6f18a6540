// umbra: clean
/* write() to a pipe happens before the read() that receives the bytes: a thread
 * fills a buffer and writes a byte; the main thread reads the byte, then the buffer. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

int fds[2];
long buffer[16];

static void *producer(void *arg) {
  for (int i = 0; i < 16; i++)
    buffer[i] = i;
  char token = 'x';
  if (write(fds[1], &token, 1) != 1)
    return NULL;
  return arg;
}

int main(void) {
  if (pipe(fds) != 0)
    return 2;
  pthread_t t;
  pthread_create(&t, NULL, producer, NULL);
  char token;
  if (read(fds[0], &token, 1) != 1)
    return 3;
  long sum = 0;
  for (int i = 0; i < 16; i++) {
    sum += buffer[i];
    buffer[i] = 0;
  }
  pthread_join(t, NULL);
  close(fds[0]);
  close(fds[1]);
  printf("%ld\n", sum);
  return sum == 120 ? 0 : 1;
}
