// umbra: clean
/* The same rwlock protocol through pthread_rwlock_try{rd,wr}lock and timed{rd,wr}lock. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
long value;

static struct timespec deadline(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 30;
  return ts;
}

static void *try_worker(void *arg) {
  long seen = 0;
  for (int i = 0; i < 2000; i++) {
    while (pthread_rwlock_trywrlock(&lock) != 0)
      sched_yield();
    value++;
    pthread_rwlock_unlock(&lock);
    while (pthread_rwlock_tryrdlock(&lock) != 0)
      sched_yield();
    seen += value;
    pthread_rwlock_unlock(&lock);
  }
  return (void *)seen;
}

static void *timed_worker(void *arg) {
  long seen = 0;
  for (int i = 0; i < 2000; i++) {
    struct timespec ts = deadline();
    while (pthread_rwlock_timedwrlock(&lock, &ts) != 0)
      ;
    value++;
    pthread_rwlock_unlock(&lock);
    ts = deadline();
    while (pthread_rwlock_timedrdlock(&lock, &ts) != 0)
      ;
    seen += value;
    pthread_rwlock_unlock(&lock);
  }
  return (void *)seen;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, try_worker, NULL);
  pthread_create(&b, NULL, timed_worker, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("%ld\n", value);
  return value == 4000 ? 0 : 1;
}
