// exit: 0
// stdout: done
// stderr-clean
// stock
//
// Two threads hold the read lock at the same time, each unlocks its own hold, then
// main takes the write lock, unlocks it and destroys the rwlock: no misuse, exit 0.
#include <pthread.h>
#include <stdio.h>

static pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t both_reading;
static int value = 1;

static void *reader(void *arg) {
  pthread_rwlock_rdlock(&l);
  pthread_barrier_wait(&both_reading);
  int v = value;
  pthread_rwlock_unlock(&l);
  return (void *)(long)v;
}

int main(void) {
  pthread_barrier_init(&both_reading, NULL, 2);
  pthread_t a, b;
  pthread_create(&a, NULL, reader, NULL);
  pthread_create(&b, NULL, reader, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  pthread_rwlock_wrlock(&l);
  value = 2;
  pthread_rwlock_unlock(&l);
  pthread_rwlock_destroy(&l);
  printf("done\n");
  return 0;
}
