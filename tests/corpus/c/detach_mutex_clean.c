// umbra: clean
/* A detached thread publishes its result under a mutex; the main thread polls the
 * done flag under the same mutex and reads the result after seeing it. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
int done;
long result[4];

static void *worker(void *arg) {
  for (int i = 0; i < 4; i++)
    result[i] = 100 + i;
  pthread_mutex_lock(&lock);
  done = 1;
  pthread_mutex_unlock(&lock);
  return arg;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_detach(t);
  for (;;) {
    pthread_mutex_lock(&lock);
    int finished = done;
    pthread_mutex_unlock(&lock);
    if (finished)
      break;
    sched_yield();
  }
  long sum = result[0] + result[1] + result[2] + result[3];
  result[0] = 0;
  printf("%ld\n", sum);
  return sum == 406 ? 0 : 1;
}
