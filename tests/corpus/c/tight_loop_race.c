// umbra: race
// reports: 1
/* Two threads write the same global 100000 times each in a tight loop: one race,
 * reported exactly once. */
#include <pthread.h>
#include <stdio.h>

long global;

static void *writer(void *arg) {
  for (long i = 0; i < 100000; i++) {
    global = i; // RACE
    __asm__ volatile("" ::: "memory");
  }
  return arg;
}

int main(void) {
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, writer, NULL);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  printf("%ld\n", global);
  return 0;
}
