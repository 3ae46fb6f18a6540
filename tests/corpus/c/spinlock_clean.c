// umbra: clean
/* Two threads increment a counter under a pthread spinlock. */
#include <pthread.h>
#include <stdio.h>

pthread_spinlock_t lock;
long counter;

static void *worker(void *arg) {
  for (int i = 0; i < 10000; i++) {
    pthread_spin_lock(&lock);
    counter++;
    pthread_spin_unlock(&lock);
  }
  return arg;
}

int main(void) {
  pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE);
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  pthread_spin_destroy(&lock);
  printf("%ld\n", counter);
  return counter == 20000 ? 0 : 1;
}
