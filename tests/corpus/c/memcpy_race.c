// umbra: race
/* Two threads memcpy into the same shared buffer (the intercepted libc memcpy). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

char shared[256] __attribute__((aligned(64)));
char from_thread[256], from_main[256];
size_t length = sizeof shared;

static void *copier(void *arg) {
  memcpy(shared, from_thread, length); // RACE
  return arg;
}

int main(void) {
  memset(from_thread, 'a', sizeof from_thread);
  memset(from_main, 'b', sizeof from_main);
  pthread_t t;
  pthread_create(&t, NULL, copier, NULL);
  memcpy(shared, from_main, length); // RACE
  pthread_join(t, NULL);
  printf("%c\n", shared[0]);
  return 0;
}
