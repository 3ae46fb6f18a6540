// umbra: clean
/* Eight threads each write their own byte of one 8-byte word: distinct bytes never race. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 8

char bytes[THREADS] __attribute__((aligned(8)));

static void *writer(void *arg) {
  long i = (long)arg;
  for (int n = 0; n < 1000; n++) {
    bytes[i] = (char)(n + i);
    __asm__ volatile("" ::: "memory");
  }
  return NULL;
}

int main(void) {
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    pthread_create(&t[i], NULL, writer, (void *)i);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  int sum = 0;
  for (int i = 0; i < THREADS; i++)
    sum += bytes[i];
  printf("sum %d\n", sum);
  return 0;
}
