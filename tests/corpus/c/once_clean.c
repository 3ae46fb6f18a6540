// umbra: clean
/* pthread_once initialises a table that four threads then read. */
#include <pthread.h>
#include <stdio.h>

pthread_once_t once = PTHREAD_ONCE_INIT;
int table[64];

static void init_table(void) {
  for (int i = 0; i < 64; i++)
    table[i] = i * i;
}

static void *reader(void *arg) {
  pthread_once(&once, init_table);
  long sum = 0;
  for (int i = 0; i < 64; i++)
    sum += table[i];
  return (void *)sum;
}

int main(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, reader, NULL);
  long total = 0;
  for (int i = 0; i < 4; i++) {
    void *sum;
    pthread_join(t[i], &sum);
    total += (long)sum;
  }
  printf("%ld\n", total);
  return 0;
}
