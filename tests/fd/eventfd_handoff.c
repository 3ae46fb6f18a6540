// exit: 0
// stdout: values 42 43
// stderr-clean
//
// An eventfd: write() then read(), and eventfd_write() then eventfd_read(), each
// carry what the writer did before to the reader.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int efd, efd2;
static int a, b;

static void *worker(void *arg) {
  a = 42;
  uint64_t one = 1;
  write(efd, &one, sizeof one);
  b = 43;
  eventfd_write(efd2, 1);
  return arg;
}

int main(void) {
  efd = eventfd(0, 0);
  efd2 = eventfd(0, 0);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  uint64_t n;
  read(efd, &n, sizeof n);
  int va = a;
  eventfd_t m;
  eventfd_read(efd2, &m);
  printf("values %d %d\n", va, b);
  pthread_join(t, NULL);
  return 0;
}
