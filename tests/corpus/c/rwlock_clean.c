// umbra: clean
/* Writers update a table under the write lock; readers read it under the read lock. */
#include <pthread.h>
#include <stdio.h>

pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
int table[16];

static void *writer(void *arg) {
  for (int i = 0; i < 2000; i++) {
    pthread_rwlock_wrlock(&lock);
    table[i % 16] += 1;
    pthread_rwlock_unlock(&lock);
  }
  return arg;
}

static void *reader(void *arg) {
  long sum = 0;
  for (int i = 0; i < 2000; i++) {
    pthread_rwlock_rdlock(&lock);
    sum += table[i % 16];
    pthread_rwlock_unlock(&lock);
  }
  return (void *)sum;
}

int main(void) {
  pthread_t w[2], r[2];
  for (int i = 0; i < 2; i++) {
    pthread_create(&w[i], NULL, writer, NULL);
    pthread_create(&r[i], NULL, reader, NULL);
  }
  for (int i = 0; i < 2; i++) {
    pthread_join(w[i], NULL);
    pthread_join(r[i], NULL);
  }
  int total = 0;
  for (int i = 0; i < 16; i++)
    total += table[i];
  printf("%d\n", total);
  return total == 4000 ? 0 : 1;
}
