// umbra: race
/* Two threads write while holding only the READ side of an rwlock: readers do not exclude readers. */
#include <pthread.h>
#include <stdio.h>

pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
pthread_barrier_t both_hold_read_lock;
long value;

static void *worker(void *arg) {
  pthread_rwlock_rdlock(&lock);
  pthread_barrier_wait(&both_hold_read_lock);
  value = (long)arg; // RACE
  pthread_rwlock_unlock(&lock);
  return NULL;
}

int main(void) {
  pthread_barrier_init(&both_hold_read_lock, NULL, 2);
  pthread_t t[2];
  for (long i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, worker, (void *)(i + 1));
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  printf("%ld\n", value);
  return 0;
}
